"""A real SMTP server on loopback (aiosmtpd), on a port the OS picks; it keeps what it receives."""
from __future__ import annotations

import email
import threading
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import default

from aiosmtpd.controller import Controller


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def text(self) -> str:
        return self.message.get_body(("plain",)).get_content()

    @property
    def html(self) -> str:
        part = self.message.get_body(("html",))
        return part.get_content() if part else ""


@dataclass
class Sink:
    keep: bool = True  # False: count only (benchmarks)
    received: list[Received] = field(default_factory=list)
    count: int = 0
    logins: list[str] = field(default_factory=list)
    login_attempts: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server, session, envelope):  # noqa: ANN001, N802
        with self._lock:
            self.count += 1
            if self.keep:
                msg = email.message_from_bytes(envelope.original_content or envelope.content, policy=default)
                self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), msg))
        return "250 OK"

    def authenticate(self, server, session, envelope, mechanism, auth_data):  # noqa: ANN001
        from aiosmtpd.smtp import AuthResult  # noqa: PLC0415

        self.login_attempts += 1
        ok = auth_data.login == b"hr-mailer" and auth_data.password == b"s3cret"
        if ok:
            self.logins.append(auth_data.login.decode())
        return AuthResult(success=ok)


class LoopbackController(Controller):
    """aiosmtpd's Controller bound to port 0: reads back the port the OS chose."""

    def _trigger_server(self):  # noqa: ANN202
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


def start(*, keep: bool = True, auth: bool = False) -> tuple[LoopbackController, Sink]:
    sink = Sink(keep=keep)
    kw = dict(authenticator=sink.authenticate, auth_require_tls=False) if auth else {}
    controller = LoopbackController(sink, hostname="127.0.0.1", port=0, **kw)
    controller.start()
    return controller, sink

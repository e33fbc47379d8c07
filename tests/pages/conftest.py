"""A live pmflow server on a free loopback port, over a temporary SQLite database, and Debian's
chromium driven by Playwright. Without /usr/bin/chromium the page tests skip (make test
installs it: the Makefile's `browser` target)."""
from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from db.session import make_engine, new_session
from tests.factories import World, world

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--no-first-run", "--disable-sync"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "pages"


@dataclass
class Site:
    url: str
    engine: object
    world: World

    def session(self):
        return new_session(self.engine)

    def username(self, who: str) -> str:
        return f"{who}-{self.world.org.code}".lower()

    def new_world(self) -> World:
        with self.session() as s:
            return world(s)


@pytest.fixture(scope="module")
def site(tmp_path_factory, sqlite_template) -> Iterator[Site]:
    import uvicorn

    from api.main import create_app

    path = tmp_path_factory.mktemp("pages") / "pmflow.db"
    shutil.copy(sqlite_template, path)
    engine = make_engine(f"sqlite:///{path}")
    with new_session(engine) as s:
        w = world(s)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(engine), log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    yield Site(f"http://127.0.0.1:{port}", engine, w)
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()
    engine.dispose()


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.skip("page tests need Debian's chromium at /usr/bin/chromium (`make browser` installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def as_user(browser, site):
    """as_user(who, width=1100) -> a signed-in Playwright page for that person of the world."""
    contexts = []

    def sign_in(who: str, *, width: int = 1100, lang: str | None = None, w: World | None = None):
        ctx = browser.new_context(viewport={"width": width, "height": 900})
        contexts.append(ctx)
        page = ctx.new_page()
        page.set_default_timeout(15000)
        # Irreversible actions ask once (window.confirm): accept, and keep what was asked.
        page.dialogs = []
        page.on("dialog", lambda d: (page.dialogs.append(d.message), d.accept()))
        if lang:
            page.goto(f"{site.url}/lang/{lang}?next=/login")
        page.goto(f"{site.url}/login")
        code = (w or site.world).org.code
        page.fill("#username", f"{who}-{code}".lower())
        page.fill("#password", f"pw-{who}")
        page.press("#password", "Enter")
        page.wait_for_url(f"{site.url}/")
        return page

    yield sign_in
    for ctx in contexts:
        ctx.close()


def shot(page, name: str, *, full_page: bool = True) -> Path:
    """Save a screenshot under test-artifacts/pages/ (gitignored). A bare SVG document needs
    full_page=False: chromium never finishes measuring one for a full-page capture."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    out = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(out), full_page=full_page)
    return out

"""How a stored file is handed back: a type a browser will not run, a filename it cannot misread."""
from __future__ import annotations

from urllib.parse import quote

# Types a browser shows without running anything (with nosniff); anything else is a download of
# application/octet-stream whatever the uploader claimed (an HTML "evidence" never renders).
SAFE_TYPES = frozenset({"application/pdf", "image/png", "image/jpeg", "image/gif", "text/plain", "text/csv",
                        "application/zip", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        "application/vnd.openxmlformats-officedocument.wordprocessingml.document"})


def safe_media_type(claimed: str | None) -> str:
    base = (claimed or "").split(";", 1)[0].strip().lower()
    if base not in SAFE_TYPES:
        return "application/octet-stream"
    return f"{base}; charset=utf-8" if base.startswith("text/") else base


def attachment(filename: str) -> str:
    """A Content-Disposition header: an ASCII fallback name and the real one RFC 5987 encoded."""
    fallback = "".join(ch if ch.isascii() and (ch.isalnum() or ch in "._-") else "_" for ch in filename) or "file"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"

"""Compile a Typst template with JSON data into a PDF.

Each document kind is one template file, ``templates/<kind>.typ``, that reads its data with
``json("data.json")`` and lays it out; the fonts are the ones shipped in ``fonts/`` (never the
machine's), so a form looks and copies out the same on every server.

The data goes in as a file, not as ``sys.inputs``: Typst memoises layout across compilations
unless its inputs change, and a changed ``sys.inputs`` invalidates everything (a form then costs
about 21 ms of CPU), while a changed file only re-lays what reads it (about 7.5 ms). So each
process keeps a private working copy of the template directory, writes ``data.json`` there and
compiles from it, one compilation at a time.

An organisation replaces a form with its own letterhead by putting a file of the same name in
the directory named by ``PMFLOW_TEMPLATES_DIR``; the file is checked the first time it is used
in a process (and when the API starts) by rendering the sample data in ``samples/<kind>.json``
(the same file also shows a template's author what data there is),
and a template that does not compile is refused with an error naming the file.
"""
from __future__ import annotations

import atexit
import json
import os
import shutil
import tempfile
import threading
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

import typst

from workflow.settings import get_settings

HERE = Path(__file__).parent
TEMPLATES = HERE / "templates"
SAMPLES = HERE / "samples"
FONTS = HERE / "fonts"
KINDS = ("summary_form", "report", "commitment", "development_plan", "ita_index")
# Words the line breaker must keep whole: Typst's Thai dictionary splits these (สมร/รถนะ, ปิ่น/แก้ว,
# เอื้อ/เฟื้อ); each template puts them in a box of their own width (`#show regex(sys.inputs.keep): ...`).
KEEP_TOGETHER = ("สมรรถนะ", "ผลสัมฤทธิ์", "ศักดิ์สิทธิ์", "ประสิทธิภาพ", "ยุทธศาสตร์", "ปิ่นแก้ว", "เอื้อเฟื้อ",
                 "คะแนนรวม", "ตำแหน่ง", "ลงชื่อ", "ลงนาม", "ข้อตกลง", "ผู้บังคับบัญชา", "พฤติกรรม")
KEEP = "|".join(sorted(KEEP_TOGETHER, key=len, reverse=True))
_lock = threading.Lock()  # one Compiler per process, its font book loaded once; compile calls take turns
_checked: set[Path] = set()
_copies: dict[tuple[int, Path], tuple[Path, dict[str, float]]] = {}  # (pid, template dir) -> (copy, mtimes)


class TemplateError(Exception):
    """A template (usually an organisation's own) that does not compile."""

    def __init__(self, path: Path, detail: str):
        super().__init__(f"template {path} does not render: {detail}")
        self.path = path
        self.detail = detail


def templates_dir() -> Path | None:
    """The organisation's own templates, overriding ours by file name (``PMFLOW_TEMPLATES_DIR``)."""
    value = get_settings().templates_dir.strip()
    return Path(value) if value else None


def template_path(kind: str) -> Path:
    if kind not in KINDS:
        raise KeyError(kind)
    own = templates_dir()
    if own is not None and (own / f"{kind}.typ").is_file():
        return own / f"{kind}.typ"
    return TEMPLATES / f"{kind}.typ"


@lru_cache(maxsize=1)
def _compiler() -> typst.Compiler:
    return typst.Compiler(font_paths=[str(FONTS)], ignore_system_fonts=True)


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, (set, tuple)):
        return list(value)
    raise TypeError(f"not JSON: {type(value).__name__}")


def _working_copy(source: Path) -> Path:
    """This process's copy of a template directory, refreshed when a file in it changed."""
    key = (os.getpid(), source)
    mtimes = {f.name: f.stat().st_mtime for f in source.iterdir() if f.is_file()}
    copy, seen = _copies.get(key, (None, {}))
    if copy is None:
        copy = Path(tempfile.mkdtemp(prefix="pmflow-templates-"))
        atexit.register(shutil.rmtree, copy, True)
    if seen != mtimes:
        for name in mtimes:
            shutil.copy2(source / name, copy / name)
        _copies[key] = (copy, mtimes)
    return copy


def _compile(path: Path, data: dict[str, Any]) -> bytes:
    payload = json.dumps(data, ensure_ascii=False, default=_default)
    with _lock:
        work = _working_copy(path.parent)
        (work / "data.json").write_text(payload, encoding="utf-8")
        try:
            return _compiler().compile(input=str(work / path.name), root=str(work), sys_inputs={"keep": KEEP})
        except typst.TypstError as exc:
            detail = str(exc).strip().splitlines()[0] if str(exc).strip() else repr(exc)
            raise TemplateError(path, detail) from exc


def sample(kind: str) -> dict[str, Any]:
    return json.loads((SAMPLES / f"{kind}.json").read_text(encoding="utf-8"))


def check(kind: str) -> Path:
    """Render the sample data with the template in force; a broken one raises ``TemplateError``."""
    path = template_path(kind)
    if path.parent != TEMPLATES and path not in _checked:  # ours are checked by the tests
        pdf = _compile(path, sample(kind))
        if not pdf.startswith(b"%PDF"):
            raise TemplateError(path, "the output is not a PDF")
        _checked.add(path)
    return path


def check_templates() -> list[Path]:
    """Every template in force, checked once (the API calls this when it starts)."""
    return [check(kind) for kind in KINDS]


def render(kind: str, data: dict[str, Any]) -> bytes:
    """The PDF of one document: ``kind`` names the template, ``data`` is what it lays out."""
    return _compile(check(kind), data)

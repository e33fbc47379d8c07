"""Text back out of a PDF with poppler's pdftotext, as a person copying it would get it."""
from __future__ import annotations

import shutil
import subprocess

import pytest


def pdf_text(content: bytes, *, layout: bool = False) -> str:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed: make pdftools")
    args = ["pdftotext", "-enc", "UTF-8"] + (["-layout"] if layout else []) + ["-", "-"]
    return subprocess.run(args, input=content, capture_output=True, check=True).stdout.decode("utf-8")


def flat(text: str) -> str:
    """Whitespace aside: pdftotext guesses spaces (Thai has none between words)."""
    return "".join(text.split())


def pdf_flat(content: bytes) -> str:
    return flat(pdf_text(content))


def pages(content: bytes) -> int:
    return pdf_text(content).count("\f")

"""Small inline SVG charts (no JavaScript, no network): stacked bars of rating counts."""
from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import Any

PALETTE = ("#15803d", "#65a30d", "#2563eb", "#d97706", "#b91c1c", "#7c3aed", "#0891b2")
FONT = "Garuda, Loma, 'Noto Sans Thai', sans-serif"


def stacked_bars(groups: Sequence[dict[str, Any]], bands: Sequence[dict[str, str]], *, title: str,
                 band_name: Any = lambda b: b["th"]) -> str:
    """One horizontal bar per group (its label on top), split by rating band, with a legend.
    ``groups``: dicts with label, total and counts {band code: n} (workflow.reports.distribution)."""
    width, label_h, bar_h, gap = 400, 18, 20, 10
    legend: list[tuple[float, float, int, str]] = []  # x, y, band index, name; wraps onto new lines
    x, ly = 0.0, 4.0
    for i, b in enumerate(bands):
        name = band_name(b)
        w = 22 + 8 * len(name)
        if x and x + w > width:
            x, ly = 0.0, ly + 18
        legend.append((x, ly, i, name))
        x += w
    legend_h = ly + 22
    height = legend_h + len(groups) * (label_h + bar_h + gap) + 4
    parts = [(f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height:.0f}" role="img" '
              f'aria-label="{escape(title)}" font-family="{FONT}" font-size="15">')]
    for x, ly, i, name in legend:
        parts.append(f'<rect x="{x:.0f}" y="{ly:.0f}" width="12" height="12" fill="{PALETTE[i % len(PALETTE)]}"/>'
                     f'<text x="{x + 16:.0f}" y="{ly + 11:.0f}">{escape(name)}</text>')
    y = legend_h
    for g in groups:
        total = g.get("total") or 0
        parts.append(f'<text x="0" y="{y + 13}">{escape(str(g["label"]))} ({total})</text>')
        bx = 0.0
        for i, b in enumerate(bands):
            n = g["counts"].get(b["code"], 0)
            if not n or not total:
                continue
            w = width * n / total
            parts.append(f'<rect x="{bx:.1f}" y="{y + label_h}" width="{w:.1f}" height="{bar_h}" '
                         f'fill="{PALETTE[i % len(PALETTE)]}"><title>{escape(band_name(b))}: {n}</title></rect>')
            if w > 18:
                parts.append(f'<text x="{bx + w / 2:.1f}" y="{y + label_h + 15}" text-anchor="middle" '
                             f'fill="#fff">{n}</text>')
            bx += w
        y += label_h + bar_h + gap
    parts.append("</svg>")
    return "".join(parts)

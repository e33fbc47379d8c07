"""A state diagram drawn from a machine's own table, as SVG (pure Python, no graphviz).

Layout: the states top to bottom in the machine's order, one box per row. A transition to
the next row is a straight arrow down the middle; a transition that skips rows forward runs
in a lane on the right, one going back in a lane on the left; an event that leaves many states
for the same one (e.g. `withdraw` from every open state) is drawn as one "bus" lane that
collects them. Rows whose dest is None (recorded actions that keep the state) are listed in
each box's tooltip. The current state is filled and marked for screen readers.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from html import escape

from workflow.machines.base import WorkflowMachine

BOX_W, BOX_H, ROW = 210, 40, 78
LANE = 16
MARGIN_X = 190  # left: back edges and their labels
MARGIN_RIGHT = 250  # right: forward lanes and their labels
TOP = 34
BUS_MIN_SOURCES = 3
FONT = "Garuda, Loma, 'Noto Sans Thai', 'Sarabun', sans-serif"

Label = Callable[[str], str]


@dataclass(frozen=True)
class Edge:
    sources: tuple[str, ...]
    dest: str
    events: tuple[str, ...]


def edges_of(machine: WorkflowMachine) -> list[Edge]:
    """The arrows to draw: state-changing rows, a bus for many sources, pairs merged."""
    edges: list[Edge] = []
    pairs: dict[tuple[str, str], list[str]] = defaultdict(list)
    for r in machine.table:
        if r.dest is None:
            continue
        sources = tuple(s for s in r.sources if s != r.dest)
        if len(sources) >= BUS_MIN_SOURCES:
            edges.append(Edge(sources, r.dest, (r.event,)))
        else:
            for s in sources:
                if r.event not in pairs[(s, r.dest)]:
                    pairs[(s, r.dest)].append(r.event)
    edges += [Edge((s,), d, tuple(evs)) for (s, d), evs in pairs.items()]
    return edges


def _text(x: float, y: float, text: str, *, anchor: str = "middle", size: int = 13, cls: str = "",
          weight: str = "normal") -> str:
    return (f'<text x="{x:.0f}" y="{y:.0f}" text-anchor="{anchor}" font-size="{size}" '
            f'font-weight="{weight}"{f" class={chr(34)}{cls}{chr(34)}" if cls else ""}>{escape(text)}</text>')


def render(machine: WorkflowMachine, current: str | None, *, state_label: Label = str,
           event_label: Label = str, title: str = "") -> str:
    """The whole diagram as one SVG document."""
    states = list(machine.states)
    idx = {s: i for i, s in enumerate(states)}
    x0 = MARGIN_X
    cx = x0 + BOX_W / 2
    width = x0 + BOX_W + MARGIN_RIGHT
    height = TOP + len(states) * ROW - (ROW - BOX_H) + 8

    def cy(state: str) -> float:
        return TOP + idx[state] * ROW + BOX_H / 2

    actions: dict[str, list[str]] = defaultdict(list)
    for r in machine.table:
        if r.dest is None:
            for s in r.sources:
                actions[s].append(r.event)

    body: list[str] = []
    labels: list[str] = []
    lanes = {"left": 0, "right": 0}

    def lane_x(side: str) -> float:
        lanes[side] += 1
        k = lanes[side]
        return x0 - k * LANE if side == "left" else x0 + BOX_W + k * LANE

    # short spans take the inner lanes, long ones and buses the outer
    ordered = sorted(edges_of(machine), key=lambda e: (len(e.sources) > 1,
                                                       max(abs(idx[e.dest] - idx[s]) for s in e.sources)))
    for e in ordered:
        text = " / ".join(event_label(ev) for ev in e.events)
        ev_attr = escape(" ".join(e.events))
        if len(e.sources) == 1 and idx[e.dest] == idx[e.sources[0]] + 1:
            y1, y2 = cy(e.sources[0]) + BOX_H / 2, cy(e.dest) - BOX_H / 2
            body.append(f'<line class="edge" data-events="{ev_attr}" x1="{cx:.0f}" y1="{y1:.0f}" '
                        f'x2="{cx:.0f}" y2="{y2 - 2:.0f}" marker-end="url(#arrow)"/>')
            labels.append(_text(cx + 8, (y1 + y2) / 2 + 4, text, anchor="start", size=12, cls="label"))
            continue
        side = "right" if all(idx[e.dest] > idx[s] for s in e.sources) else "left"
        x = lane_x(side)
        edge_x = x0 + BOX_W if side == "right" else x0
        tip_x = edge_x + (3 if side == "right" else -3)
        ys = [cy(s) - 6 for s in e.sources] + [cy(e.dest) + 6]
        top, bottom = min(ys), max(ys)
        d = "".join(f"M{edge_x:.0f},{cy(s) - 6:.0f} H{x:.0f} " for s in e.sources)
        d += f"M{x:.0f},{top:.0f} V{bottom:.0f} M{x:.0f},{cy(e.dest) + 6:.0f} H{tip_x:.0f}"
        bus = " bus" if len(e.sources) > 1 else ""
        body.append(f'<path class="edge{bus}" data-events="{ev_attr}" d="{d}" marker-end="url(#arrow)"/>')
        # the label sits on the last stretch of the lane, between the nearest source and the dest
        nearest = min(e.sources, key=lambda s: abs(idx[e.dest] - idx[s]))
        ly = (cy(nearest) + cy(e.dest)) / 2 + 4
        if side == "right":
            labels.append(_text(x + 4, ly, text, anchor="start", size=12, cls="label"))
        else:
            labels.append(_text(x - 4, ly, text, anchor="end", size=12, cls="label"))

    boxes: list[str] = []
    for s in states:
        y = TOP + idx[s] * ROW
        here = s == current
        cls = "state current" if here else ("state final" if s in machine.final else "state")
        tip = state_label(s)
        if actions[s]:
            tip += " — " + ", ".join(event_label(a) for a in actions[s])
        aria = ' aria-current="step"' if here else ""
        boxes.append(
            f'<g class="{cls}" data-state="{escape(s)}"{aria}><title>{escape(tip)}</title>'
            f'<rect x="{x0}" y="{y}" width="{BOX_W}" height="{BOX_H}" rx="8"/>'
            + (f'<rect class="inner" x="{x0 + 3}" y="{y + 3}" width="{BOX_W - 6}" height="{BOX_H - 6}" rx="6"/>'
               if s in machine.final else "")
            + _text(cx, y + BOX_H / 2 + 5, state_label(s), weight="bold" if here else "normal")
            + "</g>")
    if machine.initial in idx:
        y = TOP + idx[machine.initial] * ROW
        boxes.append(f'<circle class="start" cx="{cx:.0f}" cy="{y - 20}" r="5"/>'
                     f'<line class="edge" x1="{cx:.0f}" y1="{y - 15}" x2="{cx:.0f}" y2="{y - 2}" '
                     f'marker-end="url(#arrow)"/>')

    heading = title or machine.name
    current_text = state_label(current) if current else ""
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" role="img" aria-labelledby="d-title d-desc" font-family="{FONT}">'
        f'<title id="d-title">{escape(heading)}</title>'
        f'<desc id="d-desc">{escape(current_text)}</desc>'
        "<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" markerWidth=\"7\" "
        "markerHeight=\"7\" orient=\"auto-start-reverse\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"#475569\"/>"
        "</marker></defs>"
        "<style>"
        ".edge{stroke:#475569;stroke-width:1.4;fill:none}"
        ".bus{stroke-dasharray:4 3}"
        ".label{fill:#1e293b;paint-order:stroke;stroke:#fff;stroke-width:4px;stroke-linejoin:round}"
        ".state rect{fill:#f8fafc;stroke:#64748b;stroke-width:1.5}"
        ".state text{fill:#0f172a}"
        ".final rect.inner{fill:none}"
        ".current rect{fill:#1d4ed8;stroke:#1e3a8a;stroke-width:3}"
        ".current text{fill:#fff}"
        ".start{fill:#475569}"
        "</style>"
        + "".join(body) + "".join(boxes) + "".join(labels) + "</svg>"
    )

"""Drive an appraisal through its states with the people whose role each step is."""
from __future__ import annotations

from sqlmodel import Session

from tests.factories import KPIS, World
from workflow import engine

STEPS = [
    # (actor, event, payload) ; the state reached after each group is noted
    ("evaluator", "edit_agreement", {"kpis": KPIS}),
    ("appraisee", "sign_agreement", {}),
    ("evaluator", "sign_agreement", {}),
    ("evaluator", "agree", {}),                                             # -> agreed
    ("evaluator", "review_progress", {"note": "ครึ่งรอบ: เป็นไปตามแผน"}),     # -> monitored
    ("evaluator", "score", {"kpi_levels": [4, 5], "competency_scores": [4, 4, 4, 5, 3],
                            "development_plan": "อบรมการเขียนรายงาน"}),
    ("evaluator", "evaluate", {}),                                          # -> evaluated
    ("appraisee", "acknowledge", {}),
    ("superior", "give_opinion", {"opinion": "agree"}),
    ("evaluator", "submit", {}),                                            # -> committee_review
    ("chair", "endorse", {}),                                               # -> reviewed
    ("authority", "announce", {}),                                          # -> announced
]


def drive(session: Session, w: World, who: str = "appraisee", *, until: str = "announced",
          levels: list[int] | None = None, competency_scores: list[int] | None = None) -> int:
    a = w.appraisal_of(session, who)
    for actor, event, payload in STEPS:
        if a.state == until:
            break
        if event == "score":
            payload = dict(payload, kpi_levels=levels or payload["kpi_levels"],
                           competency_scores=competency_scores or payload["competency_scores"])
        engine.fire(session, "appraisal", a.id, event, _as(w, who, actor), payload=payload)
        session.refresh(a)
    assert a.state == until, (a.state, until)
    return a.id


def _as(w: World, who: str, role: str):
    """The appraisee and their evaluator are relative: drive 'other' with the same chain."""
    return w.actors[role] if role != "appraisee" else w.actors[who]

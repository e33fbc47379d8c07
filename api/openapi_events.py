"""One documented operation per event in the OpenAPI document.

At runtime one route serves every event of a kind (`.../events/{event}`); the document adds,
beside it, `.../events/agree`, `.../events/score`... each with the event's own payload schema
(the kind's pydantic `PAYLOADS`, read from `workflow/appraisals.py` and `workflow/cases.py`),
who may fire it, from which states, what its guards check, and an example body.
"""
from __future__ import annotations

import copy
from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel, Field, create_model
from pydantic.json_schema import models_json_schema

from workflow.guard_texts import guard_text
from workflow.next_steps import payloads_of

KINDS = {"appraisal": "/api/v1/appraisals/{appraisal_id}/events/{event}",
         "case": "/api/v1/cases/{case_id}/events/{event}"}

# An example payload for each event that takes one (the others take at most a comment).
EXAMPLES: dict[tuple[str, str], dict[str, Any]] = {
    ("appraisal", "edit_agreement"): {"kpis": [
        {"title": "ร้อยละของงานที่แล้วเสร็จตามกำหนด", "source": "role", "weight": 60},
        {"title": "จำนวนคำร้องที่ตอบภายใน 3 วัน", "source": "strategic", "weight": 40}]},
    ("appraisal", "change_kpis"): {"kpis": [{"title": "ร้อยละของงานที่แล้วเสร็จตามกำหนด", "weight": 100}],
                                   "reason": "ภารกิจเปลี่ยนตามคำสั่งจังหวัด"},
    ("appraisal", "review_progress"): {"note": "ติดตามผลครึ่งรอบ: เป็นไปตามแผน"},
    ("appraisal", "add_progress_note"): {"note": "ส่งรายงานเดือนที่ 3 แล้ว"},
    ("appraisal", "score"): {"kpi_levels": [4, 5], "competency_scores": [4, 4, 3, 5, 4],
                             "development_plan": "อบรมการเขียนหนังสือราชการ"},
    ("appraisal", "record_refusal"): {"witness_name": "นางสาวมาลี ใจงาม", "refused_on": "2027-03-20"},
    ("appraisal", "give_opinion"): {"opinion": "differ", "total_percent": "78.50", "reason": "ผลงานชิ้นที่ 2 ยังไม่ครบ"},
    ("appraisal", "hand_over"): {"evaluator_id": 12, "reason": "ผู้ประเมินเดิมย้ายหน่วยงาน"},
    ("appraisal", "withdraw"): {"reason": "ลาออกระหว่างรอบ"},
    ("appraisal", "return_to_evaluator"): {"comment": "โปรดทบทวนระดับตัวชี้วัดที่ 2"},
    ("case", "edit_plan"): {"weakness_analysis": "การวางแผนงาน", "development_plan": "สอนงานสัปดาห์ละครั้ง"},
    ("case", "sign_plan"): {"weakness_analysis": "การวางแผนงาน", "development_plan": "สอนงานสัปดาห์ละครั้ง",
                            "development_plan_items": [{"area": "skill", "topic": "การวางแผนงาน",
                                                        "method": "สอนงานโดยหัวหน้า 4 สัปดาห์",
                                                        "due_on": "2027-06-30"}]},
    ("case", "agree_plan"): {"weakness_analysis": "การวางแผนงาน", "development_plan": "สอนงานสัปดาห์ละครั้ง"},
    ("case", "begin_coaching"): {"note": "เริ่มสอนงาน 1 พ.ค."},
    ("case", "begin_training"): {"note": "ส่งอบรมหลักสูตรการเขียนหนังสือ"},
    ("case", "begin_commitment"): {"note": "จัดทำคำมั่น"},
    ("case", "update_measure"): {"measure": "coaching", "status": "done", "note": "สอนงานครบ 8 ครั้ง"},
    ("case", "skip_measure"): {"measure": "training", "reason": "นโยบายให้ข้ามได้ ไม่มีหลักสูตรในรอบนี้"},
    ("case", "add_evidence"): {"measure": "coaching", "note": "บันทึกการสอนงานครั้งที่ 3"},
    ("case", "record_follow_up"): {"note": "ผลการติดตาม: ดีขึ้น"},
    ("case", "record_decision"): {"note": "ผู้มีอำนาจพิจารณาให้พัฒนาต่ออีกหนึ่งรอบ"},
    ("case", "close_improved"): {"appraisal_id": 88, "low": False, "total_percent": "72.00", "rating": "good"},
    ("case", "still_low"): {"appraisal_id": 88, "low": True, "total_percent": "55.00", "rating": "fair"},
    ("case", "escalate"): {"appraisal_id": 88, "low": True, "total_percent": "50.00", "rating": "fair"},
}


def _title(kind: str, event: str) -> str:
    return "".join(w.capitalize() for w in f"{kind}_{event}".split("_"))


def event_bodies(kind: str) -> dict[str, type[BaseModel]]:
    """Each event's request body: `version`, `comment` and its own `payload` shape."""
    from workflow import engine

    payloads, default = payloads_of(kind)
    out: dict[str, type[BaseModel]] = {}
    for event in engine.kind_of(kind).machine.events:
        shape = payloads.get(event, default)
        example = {"comment": "ตกลงตามนี้"} if shape is default else {"payload": EXAMPLES.get((kind, event), {})}
        if shape is default and (kind, event) in EXAMPLES:
            example = EXAMPLES[(kind, event)]
        out[event] = create_model(
            f"{_title(kind, event)}Event",
            __config__={"extra": "forbid", "json_schema_extra": {"examples": [example]}},
            version=(int | None, Field(None, ge=0, le=2**31 - 1, description="the version the caller last saw")),
            comment=(str | None, Field(None, max_length=4000, description="recorded with the event")),
            payload=(shape | None, Field(None, description=f"the data `{event}` takes")),
        )
    return out


def add_event_operations(doc: dict[str, Any]) -> dict[str, Any]:
    from workflow import engine

    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    for kind, template in KINDS.items():
        generic = doc["paths"].get(template, {}).get("post")
        if generic is None:
            continue
        bodies = event_bodies(kind)
        _, defs = models_json_schema([(m, "validation") for m in bodies.values()],
                                     ref_template="#/components/schemas/{model}")
        schemas.update(defs.get("$defs", {}))
        machine = engine.kind_of(kind).machine
        for event, model in bodies.items():
            op = copy.deepcopy(generic)
            op["operationId"] = f"{kind}_{event}"
            op["summary"] = f"{kind}: {event}"
            op["parameters"] = [p for p in op.get("parameters", []) if p.get("name") != "event"]
            rows = [r for r in machine.table if r.event == event]
            lines = []
            for r in rows:
                guards = "; ".join(f"{guard_text(g)[1]} ({guard_text(g)[0]})" for g in r.guards) or "none"
                lines.append(f"- from {', '.join(r.sources)} to {r.dest or '(same state)'}; "
                             f"roles: {', '.join(sorted(r.roles))}; guards: {guards}")
            op["description"] = (f"Fire `{event}`. The version goes in `If-Match`.\n\n" + "\n".join(lines)
                                 + "\n\n" + generic.get("description", ""))
            op["requestBody"] = {"required": False, "content": {"application/json": {
                "schema": {"$ref": f"#/components/schemas/{model.__name__}"}}}}
            doc["paths"][template.replace("{event}", event)] = {"post": op}
    return doc


def install(app: FastAPI) -> None:
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = add_event_operations(build())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

"""Reports as JSON or downloads (.csv, .xlsx, PDF in Thai); each person's summary form; a
round's forms in one download."""
from __future__ import annotations

from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import APIRouter, File, Form, Path, Query, UploadFile
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

from api.deps import ActorDep, SessionDep
from api.errors import responses
from workflow.reports import evidence, forms, load, writers

router = APIRouter(prefix="/api/v1", tags=["reports"])
RoundId = Annotated[int, Path(ge=1, le=2**31 - 1)]
ReportName = Literal[load.REPORTS]  # the names, from their one home
ReportFormat = Literal[tuple(writers.WRITERS)]  # json, csv, xlsx, pdf: the formats a report is written in
Digits = Annotated[Literal["arabic", "thai"], Query(description="digits in dates: 31 มีนาคม 2569 or ๓๑ มีนาคม ๒๕๖๙")]


REPORT_TYPES = {200: {"description": "the report", "content": {t.split(";")[0]: {} for t in writers.MEDIA_TYPES.values()
                                                              if t != "application/zip"}}}
PDF = {200: {"description": "PDF", "content": {"application/pdf": {}}}}
BUNDLE = {200: {"description": "zip of PDFs, or one PDF", "content": {"application/zip": {}, "application/pdf": {}}}}


def _download(content: bytes, fmt: str, name: str) -> Response:
    return Response(content, media_type=writers.MEDIA_TYPES[fmt],
                    headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}"})


@router.get("/rounds/{round_id}/reports/{name}", responses={**REPORT_TYPES, **responses(401, 404, 422)},
            summary="A round's report (HR, the authority) / รายงาน",
            description="progress: appraisals per state and overdue per milestone, per unit; round_report: the "
                        "report to the parent organisation on Ubon's forms (PM steps with evidence, every "
                        "low-performer case and its measures); distribution; announcement (outstanding and "
                        "very good); ranking within each unit; kpi_cascade; reward (the raise pool shared by "
                        "rating: suggested raises, the pool and what is left); agency_assessment (the agencies under the "
                        "round's organisation assessed in its fiscal year: dimensions, total, rating). `format` json, "
                        "csv, xlsx or pdf.")
def report(round_id: RoundId, name: ReportName, session: SessionDep, actor: ActorDep,
           format: ReportFormat = "json", digits: Digits = "arabic") -> Response:
    built = load.build(session, actor, round_id, name, digits=digits)
    if format == "json":
        return JSONResponse(built.as_dict())
    return _download(writers.write(built, format), format, writers.filename(name, round_id, format))


@router.get("/appraisals/{appraisal_id}/summary-form.pdf", response_class=Response,
            responses={**PDF, **responses(401, 404, 422)},
            summary="The appraisal summary form (OCSC) as a PDF / แบบสรุปการประเมินผลการปฏิบัติราชการ")
def summary_form(appraisal_id: Annotated[int, Path(ge=1, le=2**31 - 1)], session: SessionDep, actor: ActorDep,
                 digits: Digits = "arabic") -> Response:
    return _download(forms.form_pdf(session, actor, appraisal_id, digits=digits), "pdf",
                     f"summary-form-{appraisal_id}.pdf")


@router.get("/appraisals/{appraisal_id}/summary-form", responses=responses(401, 404, 422),
            summary="The summary form's content as JSON")
def summary_form_json(appraisal_id: Annotated[int, Path(ge=1, le=2**31 - 1)], session: SessionDep,
                      actor: ActorDep, digits: Digits = "arabic") -> dict:
    return forms.summary_form(session, actor, appraisal_id, digits=digits).as_dict()


@router.get("/rounds/{round_id}/forms", response_class=Response, responses={**BUNDLE, **responses(401, 404, 422)},
            summary="Every summary form of a round in one download (zip of PDFs, or one PDF)")
def round_forms(round_id: RoundId, session: SessionDep, actor: ActorDep,
                format: Literal["zip", "pdf"] = "zip", digits: Digits = "arabic") -> Response:
    content = forms.round_forms(session, actor, round_id, fmt=format, digits=digits)
    return _download(content, format, f"forms-round-{round_id}.{format}")


class RoundEvidenceOut(BaseModel):
    id: int
    step: str | None
    filename: str
    sha256: str
    note: str
    size: int


def _evidence_out(ev) -> RoundEvidenceOut:  # noqa: ANN001
    return RoundEvidenceOut(id=ev.id, step=ev.step, filename=ev.filename, sha256=ev.sha256, note=ev.note,
                            size=len(ev.content or b""))


@router.post("/rounds/{round_id}/evidence", response_model=RoundEvidenceOut, status_code=201,
             responses=responses(401, 403, 404, 413, 422),
             summary="Attach evidence to a PM step of the round (HR) / แนบหลักฐานประกอบรายงาน",
             description="step: " + ", ".join(evidence.STEP_CODES) + ". A file (stored with its SHA-256) or a note.")
async def add_round_evidence(round_id: RoundId, session: SessionDep, actor: ActorDep,
                             step: Annotated[str, Form(max_length=64)],
                             file: Annotated[UploadFile | None, File()] = None,
                             note: Annotated[str, Form(max_length=8000)] = "") -> RoundEvidenceOut:
    content = await file.read() if file is not None else b""
    ev = evidence.add(session, actor, round_id, step=step, filename=(file.filename or "") if file else "",
                      content=content, content_type=(file.content_type or "application/octet-stream") if file else "",
                      note=note)
    return _evidence_out(ev)


@router.get("/rounds/{round_id}/evidence", response_model=list[RoundEvidenceOut], responses=responses(401, 404, 422),
            summary="The evidence attached to the round's PM steps")
def list_round_evidence(round_id: RoundId, session: SessionDep, actor: ActorDep) -> list[RoundEvidenceOut]:
    return [_evidence_out(ev) for ev in evidence.of_round(session, actor, round_id)]


@router.get("/rounds/{round_id}/evidence/{evidence_id}", response_class=Response,
            responses={200: {"description": "the file as uploaded (a note as text/plain)",
                             "content": {"application/octet-stream": {}, "text/plain": {}}},
                       **responses(401, 404, 422)})
def download_round_evidence(round_id: RoundId, evidence_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
                            session: SessionDep, actor: ActorDep) -> Response:
    ev = evidence.one(session, actor, round_id, evidence_id)
    if not ev.filename:
        return Response(ev.note.encode("utf-8"), media_type="text/plain; charset=utf-8",
                        headers={"X-Content-SHA256": ev.sha256})
    from api.downloads import attachment, safe_media_type

    return Response(ev.content, media_type=safe_media_type(ev.content_type),
                    headers={"Content-Disposition": attachment(ev.filename), "X-Content-SHA256": ev.sha256})

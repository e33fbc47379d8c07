"""Reports as JSON or downloads (.csv, .xlsx, PDF in Thai); each person's summary form; a
round's forms in one download."""
from __future__ import annotations

from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import APIRouter, Path, Query
from fastapi.responses import JSONResponse, Response

from api.deps import ActorDep, SessionDep
from api.errors import responses
from workflow.reports import forms, load, writers

router = APIRouter(prefix="/api/v1", tags=["reports"])
RoundId = Annotated[int, Path(ge=1, le=2**31 - 1)]
ReportName = Literal["progress", "round_report", "distribution", "announcement", "ranking", "kpi_cascade"]
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
                        "very good); ranking within each unit; kpi_cascade. `format` json, csv, xlsx or pdf.")
def report(round_id: RoundId, name: ReportName, session: SessionDep, actor: ActorDep,
           format: Literal["json", "csv", "xlsx", "pdf"] = "json", digits: Digits = "arabic") -> Response:
    built = load.build(session, actor, round_id, name, digits=digits)
    if format == "json":
        return JSONResponse(built.as_dict())
    return _download(writers.write(built, format), format, f"{name}-round-{round_id}.{format}")


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

"""The forms of a low-performer case as PDFs to print and sign (the written commitment, the
individual development plan); an organisation's ITA evidence pack for a fiscal year; the
templates in force are checked when the API starts."""
from __future__ import annotations

from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Body, FastAPI, Path, Query
from fastapi.responses import Response

from api.deps import ActorDep, SessionDep
from api.errors import responses
from workflow.documents import cases as case_forms
from workflow.documents.ita import ita_pack
from workflow.documents.render import check_templates
from workflow.reports import hr_criteria

router = APIRouter(prefix="/api/v1", tags=["documents"])
CaseId = Annotated[int, Path(ge=1, le=2**31 - 1, description="case id")]
Digits = Annotated[Literal["arabic", "thai"], Query(description="digits in dates: 31 มีนาคม 2569 or ๓๑ มีนาคม ๒๕๖๙")]
PDF = {200: {"description": "PDF", "content": {"application/pdf": {}}}}


def pdf_download(content: bytes, name: str) -> Response:
    return Response(content, media_type="application/pdf",
                    headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}"})


@router.get("/cases/{case_id}/commitment.pdf", response_class=Response, responses={**PDF, **responses(401, 404, 422)},
            summary="The written commitment to improve, to print and sign / คำมั่นในการพัฒนาปรับปรุงตนเอง",
            description="From the case: the person, the result, the weak points and the development plan, with "
                        "signature lines for the person and the supervisor (Nonthaburi ¶3, Ubon 8.3).")
def commitment(case_id: CaseId, session: SessionDep, actor: ActorDep, digits: Digits = "arabic") -> Response:
    return pdf_download(case_forms.commitment_pdf(session, actor, case_id, digits=digits),
                        f"commitment-case-{case_id}.pdf")


@router.get("/cases/{case_id}/development-plan.pdf", response_class=Response,
            responses={**PDF, **responses(401, 404, 422)},
            summary="The individual development plan of a case / แผนพัฒนาการปฏิบัติราชการรายบุคคล",
            description="The structured items (area, topic, method, due date) when the case has them, "
                        "otherwise the plan's text.")
def development_plan(case_id: CaseId, session: SessionDep, actor: ActorDep, digits: Digits = "arabic") -> Response:
    return pdf_download(case_forms.development_plan_pdf(session, actor, case_id, digits=digits),
                        f"development-plan-case-{case_id}.pdf")


OrgCode = Annotated[str, Path(min_length=1, max_length=64, description="organisation code")]
FiscalYear = Annotated[int, Query(ge=2500, le=2700, description="Buddhist-era fiscal year, e.g. 2570")]


@router.get("/orgs/{code}/ita-pack", response_class=Response,
            responses={200: {"description": "zip", "content": {"application/zip": {}}}, **responses(401, 404, 422)},
            summary="The ITA evidence pack of an organisation for a fiscal year (HR, admin) / หลักฐานประกอบการประเมิน ITA",
            description="A zip with an index page (0-index.pdf) naming each file and the assessment item it "
                        "answers: policy versions in force, the announced outstanding and very good staff, the "
                        "low-performer measures per case without names, the round reports with their evidence, "
                        "and the audit log's verification with the chain heads.")
def ita(code: OrgCode, session: SessionDep, actor: ActorDep, fiscal_year: FiscalYear) -> Response:
    return Response(ita_pack(session, actor, code, fiscal_year), media_type="application/zip",
                    headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(f'ita-{code}-{fiscal_year}.zip')}"})


@router.get("/orgs/{code}/hr-criteria", responses=responses(401, 404, 422),
            summary="The organisation's HR criteria for a fiscal year (HR, admin) / หลักเกณฑ์การบริหารและพัฒนาทรัพยากรบุคคล",
            description="Recruitment, appointment, development, reward and discipline: for each, whether the "
                        "organisation has criteria, what they are and the evidence; shown in the round report.")
def get_hr_criteria(code: OrgCode, session: SessionDep, actor: ActorDep, fiscal_year: FiscalYear) -> dict[str, Any]:
    return hr_criteria.get(session, actor, code, fiscal_year)


@router.put("/orgs/{code}/hr-criteria", responses=responses(401, 404, 422),
            summary="Fill in the organisation's HR criteria for a fiscal year (HR, admin)")
def put_hr_criteria(code: OrgCode, session: SessionDep, actor: ActorDep, fiscal_year: FiscalYear,
                    body: Annotated[dict[str, Any], Body(examples=[{
                        "recruitment": {"has": True, "text": "ตามหนังสือสำนักงาน ก.พ. ที่ นร 1006/ว 10",
                                        "evidence": "ประกาศรับสมัคร"}}])]) -> dict[str, Any]:
    return hr_criteria.put(session, actor, code, fiscal_year, body)


def install(app: FastAPI) -> None:
    """Check every template in force (an organisation's own may be broken), then add the routes."""
    check_templates()
    app.include_router(router)

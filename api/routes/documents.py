"""The forms of a low-performer case as PDFs to print and sign (the written commitment, the
individual development plan); the templates in force are checked when the API starts."""
from __future__ import annotations

from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import APIRouter, FastAPI, Path, Query
from fastapi.responses import Response

from api.deps import ActorDep, SessionDep
from api.errors import responses
from workflow.documents import cases as case_forms
from workflow.documents.render import check_templates

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


def install(app: FastAPI) -> None:
    """Check every template in force (an organisation's own may be broken), then add the routes."""
    check_templates()
    app.include_router(router)

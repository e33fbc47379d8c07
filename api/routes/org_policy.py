"""An organisation's own policy: read the TOML in force, attach a new version, its history, and
a preview of what a proposed text would change (HR of the organisation, or an admin)."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, Response
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, ConfigDict, Field

from api.deps import ActorDep, SessionDep
from api.errors import responses
from api.schemas import UtcDateTime
from workflow import org_policy
from workflow.errors import InvalidInput, Problem

router = APIRouter(prefix="/api/v1", tags=["policies"])
Code = Annotated[str, Path(min_length=1, max_length=64)]
TOML_TYPES = ("text/plain", "application/toml")
_TOML_BODY = {"requestBody": {"required": True, "content": {
    t: {"schema": {"type": "string"}, "example": 'code = "udon_thani"\n...'} for t in TOML_TYPES}}}


class PolicySetOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "org": "UDN", "policy_version_id": 7, "code": "udon_thani", "version": 2, "changed": True}]})
    org: str
    policy_version_id: int
    code: str = Field(examples=["udon_thani"])
    version: int
    changed: bool = Field(description="false: the text was the one in force; nothing was stored")


class AttachedOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "policy_version_id": 7, "code": "udon_thani", "version": 2, "actor": "hr", "attached_at": "2026-04-02T03:00:00Z"}]})
    policy_version_id: int
    code: str
    version: int
    actor: str
    attached_at: UtcDateTime


class ImpactOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "round_id": 3, "people": 120, "rating_changes": 4, "cases_current": 9, "cases_proposed": 6,
        "diff": ["--- in force", "+++ proposed", "@@ -1 +1 @@", "-min = 65", "+min = 64"]}]})
    round_id: int | None = Field(description="the last announced round; null if none yet")
    people: int = 0
    rating_changes: int = 0
    cases_current: int = 0
    cases_proposed: int = 0
    diff: list[str] = Field(description="unified diff from the text in force")


async def _toml_text(request: Request) -> str:
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind not in TOML_TYPES:
        raise InvalidInput([Problem("content-type", f"ต้องส่งข้อความ TOML ({' หรือ '.join(TOML_TYPES)})",
                                    f"send the TOML text as {' or '.join(TOML_TYPES)}, not {kind or 'nothing'}")])
    try:
        return (await request.body()).decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput([Problem("body", "ข้อความต้องเป็น UTF-8", "the text must be UTF-8")]) from None


@router.get("/orgs/{code}/policy", response_class=Response,
            responses={200: {"description": "the TOML text in force", "content": {
                "application/toml": {"schema": {"type": "string"}, "example": 'code = "udon_thani"\n...'}}},
                **responses(401, 403, 404, 422)},
            summary="The policy TOML in force for the organisation (HR/admin) / นโยบายที่ใช้อยู่")
def get_org_policy(code: Code, session: SessionDep, actor: ActorDep) -> PlainTextResponse:
    found = org_policy.in_force(session, actor, code)
    return PlainTextResponse(found.version.content, media_type="application/toml; charset=utf-8",
                             headers={"X-Policy-Version": f"{found.version.code} v{found.version.version}"})


@router.put("/orgs/{code}/policy", response_model=PolicySetOut, responses=responses(401, 403, 404, 413, 422),
            openapi_extra=_TOML_BODY,
            summary="Validate and attach a new policy version (HR/admin); open rounds keep theirs")
async def put_org_policy(code: Code, request: Request, session: SessionDep, actor: ActorDep) -> PolicySetOut:
    text = await _toml_text(request)
    result = org_policy.attach(session, actor, code, text)
    pv = result.version
    return PolicySetOut(org=code, policy_version_id=pv.id, code=pv.code, version=pv.version, changed=result.changed)


@router.post("/orgs/{code}/policy/preview", response_model=ImpactOut, responses=responses(401, 403, 404, 413, 422),
             openapi_extra=_TOML_BODY,
             summary="What a proposed policy would change: the diff, and its effect on the last announced round")
async def preview_org_policy(code: Code, request: Request, session: SessionDep, actor: ActorDep) -> ImpactOut:
    text = await _toml_text(request)
    p = org_policy.preview(session, actor, code, text)
    if p.impact is None:
        return ImpactOut(round_id=None, diff=p.diff)
    i = p.impact
    return ImpactOut(round_id=p.round.id, people=i.people, rating_changes=i.rating_changes,
                     cases_current=i.cases_current, cases_proposed=i.cases_proposed, diff=p.diff)


@router.get("/orgs/{code}/policy/versions", response_model=list[AttachedOut], responses=responses(401, 403, 404, 422),
            summary="Every policy version attached to the organisation, who and when, newest first")
def org_policy_history(code: Code, session: SessionDep, actor: ActorDep) -> list[AttachedOut]:
    return [AttachedOut(policy_version_id=a.version_id, code=a.code, version=a.version, actor=a.actor,
                        attached_at=a.attached_at) for a in org_policy.history(session, actor, code)]

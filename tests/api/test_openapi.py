"""The OpenAPI document is the product's contract: every operation typed, its errors declared
(in the one error shape), and the API's resources with examples."""
from __future__ import annotations

from api.main import create_app

PUBLIC = {("post", "/api/v1/auth/login")}
WITH_EXAMPLES = {"auth", "appraisals", "organisation", "accounts", "policies", "rounds"}


def _has_example(node, comps, seen=frozenset()) -> bool:  # noqa: ANN001
    if isinstance(node, dict):
        if "examples" in node or "example" in node:
            return True
        if "$ref" in node:
            name = node["$ref"].rsplit("/", 1)[-1]
            return name not in seen and _has_example(comps[name], comps, seen | {name})
        return any(_has_example(v, comps, seen) for v in node.values())
    if isinstance(node, list):
        return any(_has_example(v, comps, seen) for v in node)
    return False


def test_every_operation_is_typed_and_declares_its_errors():
    doc = create_app().openapi()
    comps = doc["components"]["schemas"]
    assert "HTTPValidationError" not in comps  # our 422 shape replaces FastAPI's
    ops = [(m, p, op) for p, item in doc["paths"].items() if p.startswith("/api/v1/") for m, op in item.items()]
    assert len(ops) >= 24
    for method, path, op in ops:
        where = f"{method.upper()} {path}"
        assert op.get("tags"), where
        ok = [c for c in op["responses"] if c.startswith("2")]
        assert ok and op["responses"][ok[0]].get("content"), where
        assert op["responses"]["422"]["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorOut"), where
        if (method, path) not in PUBLIC:
            assert "401" in op["responses"], where
        if set(op["tags"]) & WITH_EXAMPLES:
            assert _has_example(op["responses"][ok[0]]["content"], comps), where
    events = doc["paths"]["/api/v1/appraisals/{appraisal_id}/events/{event}"]["post"]
    assert {"200", "401", "403", "404", "409", "413", "422"} <= set(events["responses"])
    assert {p["name"] for p in events["parameters"]} >= {"If-Match", "Idempotency-Key", "appraisal_id", "event"}

"""The ITA evidence pack: only the organisation's HR or an admin gets it; the index lists every
file inside and the item each answers; names are left out of the low-performer file; the audit
verification is there with the chain heads."""
from __future__ import annotations

import csv
import io
import zipfile

from db.session import new_session
from tests.documents.pdftext import flat, pdf_flat
from tests.documents.test_case_forms import NAMES, low_case


def test_the_pack_is_for_the_organisations_hr_and_admins_only(client, w, as_):
    path = f"/api/v1/orgs/{w.org.code}/ita-pack?fiscal_year=2569"
    for who in ("stranger", "appraisee", "evaluator", "authority"):
        assert client.get(path, headers=as_(who)).status_code == 404, who
    assert client.get("/api/v1/orgs/NO-SUCH/ita-pack?fiscal_year=2569", headers=as_("hr")).status_code == 404
    assert client.get(f"/api/v1/orgs/{w.org.code}/ita-pack?fiscal_year=12", headers=as_("hr")).status_code == 422
    assert client.get(path).status_code == 401
    assert client.get(path, headers=as_("admin")).status_code == 200


def test_the_index_lists_each_file_and_what_it_answers(client, engine, w, as_):
    low_case(client, engine, w, as_)
    r = client.get(f"/api/v1/orgs/{w.org.code}/ita-pack?fiscal_year=2569", headers=as_("hr"))
    assert r.status_code == 200 and r.headers["content-type"] == "application/zip"
    z = zipfile.ZipFile(io.BytesIO(r.content))
    names = z.namelist()
    assert names[0] == "0-index.pdf"
    index = pdf_flat(z.read("0-index.pdf"))
    for name in names[1:]:
        assert flat(name) in index, name
    for part in ("1-policy/", "2-announced/", "3-low-performers/", "4-round-reports/", "5-audit/verify.txt",
                 "5-audit/chain-heads.csv"):
        assert any(n.startswith(part) for n in names), part
    assert flat("การดำเนินการกับผู้มีผลสัมฤทธิ์การปฏิบัติงานต่ำ") in index and "auditlogintact" in index

    low = z.read(next(n for n in names if n.endswith("measures-per-case.csv"))).decode("utf-8-sig")
    assert "การสอนงาน" in low and NAMES["appraisee"] not in low and w.people["appraisee"].code not in low
    low_pdf = pdf_flat(z.read(next(n for n in names if n.endswith("measures-per-case.pdf"))))
    assert flat(NAMES["appraisee"]) not in low_pdf and "หน่วย" in low_pdf
    report = pdf_flat(z.read(next(n for n in names if n.endswith("round-report.pdf"))))
    assert flat(NAMES["appraisee"]) in report  # the report sent upward is as it was sent

    heads = list(csv.DictReader(io.StringIO(z.read("5-audit/chain-heads.csv").decode("utf-8-sig"))))
    with new_session(engine) as s:
        from sqlalchemy import select

        from db.models import Round
        from workflow.documents.ita import chain_heads
        rounds = list(s.execute(select(Round).where(Round.org_unit_id == w.org.id)).scalars())
        assert [h["hash"] for h in heads] == [h[3] for h in chain_heads(s, w.org, rounds)]
    assert {"appraisal", "case"} <= {h["entity_type"] for h in heads}
    assert z.read("5-audit/verify.txt").decode().startswith("audit log intact")


def test_an_edited_event_shows_in_the_pack(client, engine, w, as_):
    low_case(client, engine, w, as_)
    from sqlalchemy import update

    from db.models import Event
    with new_session(engine) as s:
        s.execute(update(Event).where(Event.entity_type == "case").values(reason="แก้ไขย้อนหลัง"))
        s.commit()
    z = zipfile.ZipFile(io.BytesIO(client.get(f"/api/v1/orgs/{w.org.code}/ita-pack?fiscal_year=2569",
                                              headers=as_("hr")).content))
    assert z.read("5-audit/verify.txt").decode().startswith("TAMPERED")
    assert "TAMPERED" in pdf_flat(z.read("0-index.pdf"))

"""A round's forms built in the background: started, followed to done, downloaded; a job is
its starter's alone; a job whose process is gone says it must be started again."""
from __future__ import annotations

import io
import time
import zipfile

from db.models import Job
from db.session import new_session
from workflow import jobs


def _wait(client, url, headers, seconds=120):
    deadline = time.monotonic() + seconds
    while True:
        out = client.get(url, headers=headers).json()
        if out["state"] not in ("queued", "running") or time.monotonic() > deadline:
            return out
        assert 0 <= out["progress"] <= 100
        time.sleep(0.3)


def test_forms_in_the_background_to_a_download(client, w, as_):
    h = as_("hr")
    r = client.post(f"/api/v1/rounds/{w.opened.round.id}/jobs/forms?format=zip", headers=h)
    assert r.status_code == 202, r.text
    job = r.json()
    assert job["state"] in ("queued", "running", "done") and r.headers["Location"] == f"/api/v1/jobs/{job['id']}"
    assert client.get(f"/api/v1/jobs/{job['id']}", headers=as_("evaluator")).status_code == 404  # not theirs
    done = _wait(client, f"/api/v1/jobs/{job['id']}", h)
    assert done["state"] == "done" and done["progress"] == 100, done
    got = client.get(done["download_url"], headers=h)
    assert got.status_code == 200 and got.headers["content-type"] == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(got.content)).namelist()
    assert names and all(n.endswith(".pdf") for n in names)


def test_forms_of_a_round_not_yours_are_refused_at_once(client, w, as_):
    assert client.post(f"/api/v1/rounds/{w.opened.round.id}/jobs/forms", headers=as_("evaluator")).status_code == 404


def test_a_job_whose_process_is_gone_must_be_started_again(client, w, as_, engine):
    h = as_("hr")
    account = client.get("/api/v1/auth/me", headers=h).json()
    with new_session(engine) as s:
        job = Job(kind="round_forms", account_id=account["account_id"], round_id=w.opened.round.id,
                  params={"format": "zip"}, state="running", owner=jobs.OWNER)
        s.add(job)
        s.commit()
        jid = job.id
    out = client.get(f"/api/v1/jobs/{jid}", headers=h).json()
    assert out["state"] == "interrupted" and "start it again" in out["message"]
    assert client.get(f"/api/v1/jobs/{jid}/download", headers=h).status_code == 409


def test_a_report_written_in_the_background_is_the_report_of_its_route(client, w, as_):
    h = as_("hr")
    rid = w.opened.round.id
    r = client.post(f"/api/v1/rounds/{rid}/jobs/reports/progress?format=csv", headers=h)
    assert r.status_code == 202, r.text
    done = _wait(client, r.headers["Location"], h)
    assert done["state"] == "done" and done["kind"] == "report", done
    got = client.get(done["download_url"], headers=h)
    assert got.status_code == 200 and got.headers["content-type"].startswith("text/csv")
    assert "progress-round-" in got.headers["content-disposition"]
    direct = client.get(f"/api/v1/rounds/{rid}/reports/progress?format=csv", headers=h)
    assert got.content == direct.content  # the same file, however it was asked for
    # refused at once: not their round, a report that does not exist
    assert client.post(f"/api/v1/rounds/{rid}/jobs/reports/progress", headers=as_("appraisee")).status_code == 404
    bad = client.post(f"/api/v1/rounds/{rid}/jobs/reports/nonsense", headers=h)
    assert bad.status_code == 422

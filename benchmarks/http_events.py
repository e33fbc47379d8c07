"""HTTP events on PostgreSQL: pmflow's event route next to the same server's floor route.

Setup (not timed): a PostgreSQL database created for the run (dropped at the end), migrated;
an organisation from tests/factories.world with --clients extra people evaluated by the same
evaluator; a round opened (one draft appraisal each) and each appraisal given its KPIs.
The server is the real thing: `uvicorn benchmarks.floor_app:app` (pmflow's app plus the floor
route, which lives only in benchmarks/) in a subprocess on a loopback socket bound to port 0,
--workers processes.

Load: --clients concurrent clients (asyncio streams, one kept-alive connection each), each on its own
appraisal so that no request loses a version race, firing --requests requests one after another
(each with If-Match = the version the last answer gave):
* event:  POST /api/v1/appraisals/{id}/events/sign_agreement as the evaluator (bearer token):
  sign-in check, visibility, row lock, version, role, payload, guards, the signature row, the
  hash-chained audit event, one transaction, and the answer with state/version/available_events.
* floor:  POST /api/v1/bench/floor/{id}: one version-checked UPDATE plus one INSERT, COMMIT;
  no sign-in, no rules: what the database and the HTTP stack alone cost.

Besides wall-clock figures (which depend on whatever else runs on the machine) it reports the
CPU time the server process(es) spent per request, read from /proc: the cost that decides
throughput once the CPUs are the limit.

Targets: event throughput at least half the floor's, p99 under 100 ms at 32 clients.

    .venv/bin/python benchmarks/http_events.py --pg-url postgresql://postgres@127.0.0.1:5432/test
    .venv/bin/python benchmarks/http_events.py --pg-url ... --clients 32 --requests 100 --workers 2
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

MAX_CLIENTS, MAX_REQUESTS, MAX_WORKERS = 256, 2000, 8
TARGET_RATIO, TARGET_P99_MS = 0.5, 100.0


def setup(url: str, clients: int) -> tuple[str, list[int]]:
    """The evaluator's username and the appraisals the clients will work on."""
    from sqlalchemy import select

    import workflow.kinds  # noqa: F401  (the kinds the engine fires)
    from db.migrate import upgrade
    from db.models import Appraisal
    from db.session import make_engine, new_session
    from tests.factories import KPIS, person, world
    from workflow import engine as wf
    from workflow.rounds import open_round

    upgrade(url)
    eng = make_engine(url)
    with new_session(eng) as s:
        w = world(s, open_now=False)
        people = [person(s, w.unit, f"bench{i}", evaluator=w.people["evaluator"], superior=w.people["superior"])
                  for i in range(clients)]
        s.commit()
        open_round(s, org_code=w.org.code, fiscal_year=2569, number=1, actor=w.actors["system"])
        ids = []
        for p in people:
            a = s.execute(select(Appraisal).where(Appraisal.person_id == p.id)).scalar_one()
            wf.fire(s, "appraisal", a.id, "edit_agreement", w.actors["evaluator"], payload={"kpis": KPIS})
            ids.append(a.id)
    eng.dispose()
    return f"evaluator-{w.org.code}".lower(), ids


SECRET_KEY = "bench-secret"  # the benchmark server's; a token issued in a setup must be hashed with it


def stop_server(proc: subprocess.Popen | None, sock: socket.socket | None) -> None:
    """End what `start_server` started (either may be None: it failed before that)."""
    if proc is not None:
        proc.terminate()
        proc.wait(timeout=30)
    if sock is not None:
        sock.close()


def start_server(url: str, workers: int) -> tuple[subprocess.Popen, str, socket.socket]:
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    env = {**os.environ, "PMFLOW_DATABASE_URL": url, "PMFLOW_SECRET_KEY": SECRET_KEY, "PMFLOW_SCHEDULER": "off"}
    proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "benchmarks.floor_app:app", "--fd", str(sock.fileno()),
                             "--workers", str(workers), "--log-level", "warning", "--no-access-log"],
                            cwd=ROOT, env=env, pass_fds=[sock.fileno()])
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(base + "/health", timeout=2).status_code == 200:
                return proc, base, sock
        except httpx.TransportError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            raise SystemExit("the server did not start")
        time.sleep(0.1)


def _cpu(pid: int) -> float:
    """User + system CPU seconds of one process (0 if it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[int]:
    out = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                if int((d / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    out.append(int(d.name))
            except (OSError, IndexError, ValueError):
                pass
    return out


def server_cpu(server_pid: int) -> float:
    """CPU seconds so far of the server process and its workers."""
    return sum(_cpu(p) for p in [server_pid, *_children(server_pid)])


async def _post(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes) -> tuple[int, bytes]:
    """One request on a kept-alive HTTP/1.1 connection; the status and the body."""
    writer.write(request)
    status = int((await reader.readline()).split(b" ", 2)[1])
    length = 0
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    return status, await reader.readexactly(length)


async def load(base: str, paths: list[str], versions: list[int], headers: dict[str, str],
               requests: int) -> dict:
    """The clients: plain HTTP/1.1 over asyncio streams, one kept-alive connection each. Not
    httpx: the load generator shares the machine's CPUs with the server and PostgreSQL, and
    httpx spends about a millisecond of CPU per request, which the server then waits for."""
    latencies: list[float] = []
    failures: dict[int, int] = {}
    host, port = base.removeprefix("http://").split(":")
    extra = "".join(f"{k}: {v}\r\n" for k, v in headers.items())

    async def client(i: int) -> None:
        reader, writer = await asyncio.open_connection(host, int(port))
        version = versions[i]
        try:
            for _ in range(requests):
                request = (f"POST {paths[i]} HTTP/1.1\r\nHost: {host}\r\n{extra}If-Match: \"{version}\"\r\n"
                           "Content-Length: 0\r\n\r\n").encode()
                t0 = time.perf_counter()
                status, body = await _post(reader, writer, request)
                latencies.append(time.perf_counter() - t0)
                if status == 200:
                    version = json.loads(body)["version"]
                else:
                    failures[status] = failures.get(status, 0) + 1
        finally:
            writer.close()
        versions[i] = version

    t0, cpu0 = time.perf_counter(), time.process_time()
    await asyncio.gather(*(client(i) for i in range(len(paths))))
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    ok = len(latencies) - sum(failures.values())
    q = statistics.quantiles(latencies, n=100)
    return {"requests": len(latencies), "ok": ok, "failures": failures, "seconds": elapsed,
            "per_second": ok / elapsed, "p50_ms": q[49] * 1000, "p99_ms": q[98] * 1000,
            "client_cpu_ms": cpu * 1000 / len(latencies)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pg-url", default=os.environ.get("PMFLOW_TEST_DATABASE_URL"),
                    help="a PostgreSQL server URL; a database is created for the run and dropped")
    ap.add_argument("--clients", type=int, default=32)
    ap.add_argument("--requests", type=int, default=100, help="requests per client per run")
    ap.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    args = ap.parse_args()
    if not args.pg_url:
        raise SystemExit("--pg-url (or PMFLOW_TEST_DATABASE_URL) is required: this benchmark is on PostgreSQL")
    for name, value, top in (("clients", args.clients, MAX_CLIENTS), ("requests", args.requests, MAX_REQUESTS),
                             ("workers", args.workers, MAX_WORKERS)):
        if not 1 <= value <= top:
            raise SystemExit(f"--{name} must be 1..{top}")

    from tests.scratch import scratch_database

    proc = sock = None
    with scratch_database(args.pg_url, "pmflow_bench") as url:
        try:
            username, ids = setup(url, args.clients)
            proc, base, sock = start_server(url, args.workers)
            login = httpx.post(base + "/api/v1/auth/login", json={"username": username, "password": "pw-evaluator"})
            login.raise_for_status()
            auth = {"Authorization": f"Bearer {login.json()['access_token']}"}
            versions = [httpx.get(f"{base}/api/v1/appraisals/{i}", headers=auth).json()["version"] for i in ids]
            event_paths = [f"/api/v1/appraisals/{i}/events/sign_agreement" for i in ids]
            floor_paths = [f"/api/v1/bench/floor/{i}" for i in ids]
            # warm-up (not counted): connection pools, imports, caches
            asyncio.run(load(base, event_paths, versions, auth, 5))
            asyncio.run(load(base, floor_paths, versions, {}, 5))
            results = {}
            for route, paths, headers in (("floor", floor_paths, {}), ("event", event_paths, auth)):
                before = server_cpu(proc.pid)
                results[route] = asyncio.run(load(base, paths, versions, headers, args.requests))
                results[route]["server_cpu_ms"] = (server_cpu(proc.pid) - before) * 1000 / results[route]["requests"]
        finally:
            stop_server(proc, sock)

    print(f"HTTP events on PostgreSQL: {args.clients} clients x {args.requests} requests, "
          f"{args.workers} worker(s), {os.cpu_count()} CPUs")
    print(f"load average at the end: {os.getloadavg()[0]:.1f} (other processes share these CPUs)")
    print(f"{'route':<8} {'ok':>6} {'failed':>7} {'per s':>9} {'p50 ms':>8} {'p99 ms':>8} {'server CPU ms/req':>18}"
          f" {'client CPU ms/req':>18}")
    for route, r in results.items():
        print(f"{route:<8} {r['ok']:>6} {sum(r['failures'].values()):>7} {r['per_second']:>9.1f} "
              f"{r['p50_ms']:>8.1f} {r['p99_ms']:>8.1f} {r['server_cpu_ms']:>18.2f} {r['client_cpu_ms']:>18.2f}"
              f"  {r['failures'] or ''}")
    ratio = results["event"]["per_second"] / results["floor"]["per_second"]
    p99 = results["event"]["p99_ms"]
    print(f"event/floor throughput: {ratio:.2f} (target >= {TARGET_RATIO}): {'met' if ratio >= TARGET_RATIO else 'NOT met'}")
    print(f"event p99: {p99:.1f} ms (target < {TARGET_P99_MS:.0f} ms): {'met' if p99 < TARGET_P99_MS else 'NOT met'}")


if __name__ == "__main__":
    main()

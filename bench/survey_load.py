"""Survey intake under load (issue 7, item 6): anonymous link answers POSTed through gunicorn to the
portal on PostgreSQL, with deliberate repeats, and the database checked against what was acknowledged.

``python -m bench.survey_load`` (also run by ``make bench``) creates its own database on the
PostgreSQL server that JIXIAO_BENCH_DATABASE_URL (or JIXIAO_TEST_DATABASE_URL, else
postgresql://postgres@127.0.0.1:5432/test) names, loads the ``zhen`` demo tenant, opens a township
cycle and issues its links through the links service, as the office's form does (per round four
batches, one per respondent category, 263 links for each of the 19 units; two rounds: 39,976
links). Then, for each gunicorn set-up below, it starts ``gunicorn 'core:create_app()'`` (production
mode) on a free port of 127.0.0.1 and drives it for DURATION seconds, after WARM_UP seconds, from
CONNECTIONS concurrent connections (asyncio, plain HTTP/1.1, kept alive where the worker allows;
gunicorn's sync workers close every connection, so there each request opens a new one). Each POST
is a full answer set (12 random answers) for a link not used before; RESEND of the links are sent a
second time (a double tap, a retry after a lost reply: sometimes while the first is still in
flight, sometimes after its reply). A request that fails is retried, as a phone would, until it is
acknowledged: a 200 thank-you page.

Reported per set-up: sustained answers per second (links acknowledged for the first time ÷ time),
requests per second, latency p50 / p95 / p99 of every request (repeats included), the links
acknowledged, the repeats (acknowledged, not stored), errors, and the CPU milliseconds a request
cost the app (gunicorn's processes), PostgreSQL, the load generator and every other program (the
machine's two cores are shared, and other work on them shows here). At the end the database must
hold exactly the acknowledged links, each once (nothing lost, nothing twice): checked, and the bench
fails otherwise. Target on the 2-core reference machine: at least 300 answers/s with p99 under 200 ms.

Why these set-ups: the POST is CPU-bound Python (Flask, SQLAlchemy, Jinja) between short PostgreSQL
round trips (the pool's ping, the tenant and its row-level-security setting, the link, the insert,
the commit), on 2 cores shared with PostgreSQL and the load generator. ``sync`` workers (2 × cores +
1 = 5) each handle one request at a time and close the connection after it; ``gthread`` keeps
connections alive and overlaps one thread's database waits with another's work, in fewer processes
(2 × 4 threads). Both are measured and the better is named: in our runs sync had the shorter tail
(no thread waits for the GIL behind another), gthread the cheaper connections.
"""
from __future__ import annotations

import asyncio
import importlib.util
import os
import random
import secrets
import socket
import statistics
import subprocess
import sys
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

from sqlalchemy import create_engine, select, text

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/test"
DATABASE = "jixiao_bench_survey"
PER_UNIT = 263  # × 19 units × 4 categories = 19,988 links a round, each batch under the 5,000 limit
ROUNDS = 2  # rounds of batches (39,976 links): more than both set-ups use at this machine's rate
DURATION = 20.0  # seconds of load per set-up
WARM_UP = 2.0  # seconds of load before the measurement (workers import, templates compile)
CONNECTIONS = 32
RESEND = 0.10  # share of links sent a second time
SETUPS = (("sync", 5, 1), ("gthread", 2, 4))  # (worker class, workers, threads)
ANSWERS = ("satisfied", "basically_satisfied", "dissatisfied", "dont_know")
ACK = b'class="notice done"'  # the thank-you page, in any language


# ----------------------------------------------------------------------------------- the database

def _admin(base_url: str):
    return create_engine(base_url.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT")


def _create_database(base_url: str) -> str:
    admin = _admin(base_url)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{DATABASE}"'))
    admin.dispose()
    return base_url.rsplit("/", 1)[0] + "/" + DATABASE


def _drop_database(base_url: str) -> None:
    admin = _admin(base_url)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)'))
    admin.dispose()


@dataclass
class Seeded:
    tenant_id: int
    cycle_id: int
    tokens: list[str]
    question_ids: list[int]


def seed(url: str) -> Seeded:
    """The zhen tenant migrated and loaded, an open annual cycle, and its links issued through the
    links service (validated like the office's form): set-up, not measured."""
    from core import create_app
    from core.cycles import service as cycles
    from core.db import db_session
    from core.migrate import upgrade
    from core.models import Tenant
    from core.tenancy import set_tenant
    from core.tenant_files import load_folders
    from plugins.gov_public_evaluation import settings_of
    from plugins.gov_public_evaluation.links import service
    from plugins.gov_public_evaluation.links.models import SurveyToken

    app = create_app({"TESTING": True, "SECRET_KEY": "bench", "DATABASE_URL": url})
    with app.app_context():
        upgrade(app)
        load_folders([str(ROOT / "tenants" / "zhen")], demo=True)
        tenant_id = db_session.scalar(select(Tenant.id).where(Tenant.slug == "zhen"))
        set_tenant(db_session, tenant_id)
        cycle = cycles.create_cycle("gov-public-evaluation", "2026", "负载测试", {}, "bench")
        cycles.transition(cycle, "open", "bench")
        for _round in range(ROUNDS):
            for category in settings_of(cycle.settings).survey_categories:
                code, per_unit, units = service.check_batch(cycle, category.code, str(PER_UNIT), None)
                service.issue_batch(cycle, code, per_unit, units, "bench")
        db_session.commit()
        tokens = list(db_session.scalars(select(SurveyToken.token).where(SurveyToken.cycle_id == cycle.id)))
        ids = service.question_ids(cycle.id)
        seeded = Seeded(tenant_id, cycle.id, tokens, ids)
    app.extensions["jixiao.engine"].dispose()
    return seeded


def stored(url: str, seeded: Seeded) -> tuple[int, int, set[str]]:
    """The cycle's responses: (rows, distinct submission keys, the tokens answered)."""
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.connect() as conn:
        conn.execute(text("SELECT set_config('jixiao.tenant_id', :t, false)"), {"t": str(seeded.tenant_id)})
        rows, keys = conn.execute(text("SELECT count(*), count(DISTINCT submission_key) FROM gov_survey_response "
                                       "WHERE cycle_id = :c"), {"c": seeded.cycle_id}).one()
        tokens = {k.removeprefix("link:") for (k,) in conn.execute(
            text("SELECT submission_key FROM gov_survey_response WHERE cycle_id = :c"), {"c": seeded.cycle_id})}
    engine.dispose()
    return rows, keys, tokens


# ----------------------------------------------------------------------------------- the server

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gunicorn(url: str, worker_class: str, workers: int, threads: int) -> tuple[subprocess.Popen, int]:
    """gunicorn serving the portal (production mode) on a free port; returns once /healthz answers."""
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": url, "JIXIAO_ENV": "production", "SECRET_KEY": secrets.token_hex(32),
           "JIXIAO_LOAD_ENTRY_POINTS": "false"}
    command = [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
               "--worker-class", worker_class, "--threads", str(threads), "--log-level", "warning",
               "--backlog", "2048", "core:create_app()"]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn stopped: {process.stderr.read().decode(errors='replace')[-2000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.sendall(b"GET /healthz HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n")
                if s.recv(64).startswith(b"HTTP/1.1 200"):
                    return process, port
        except OSError:
            pass
        time.sleep(0.2)
    process.terminate()
    raise RuntimeError("gunicorn did not answer within 60 s")


def stop_gunicorn(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


# ----------------------------------------------------------------------------------- CPU accounting

TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _process_cpu(pids: list[int]) -> float:
    """CPU seconds (user + system) the processes have used so far."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except (FileNotFoundError, ProcessLookupError, IndexError, ValueError):
            pass
    return total / TICK


def _machine_busy() -> float:
    """CPU seconds the whole machine has been busy (every core), from /proc/stat."""
    with open("/proc/stat") as f:
        fields = [int(v) for v in f.readline().split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return (sum(fields[:8]) - idle) / TICK


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                        found.append(int(entry))
            except (FileNotFoundError, ProcessLookupError, IndexError, ValueError):
                pass
    return found


def _postgres() -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/comm") as f:
                    if f.read().strip() in ("postgres", "postmaster"):
                        found.append(int(entry))
            except (FileNotFoundError, ProcessLookupError):
                pass
    return found


@dataclass
class Cpu:
    """CPU seconds used during a window: the app (gunicorn), PostgreSQL, the load generator, the machine."""

    app: float = 0.0
    database: float = 0.0
    generator: float = 0.0
    machine: float = 0.0

    @classmethod
    def now(cls, server: int) -> "Cpu":
        return cls(_process_cpu([server, *_children(server)]), _process_cpu(_postgres()), time.process_time(),
                   _machine_busy() if os.path.exists("/proc/stat") else 0.0)

    def __sub__(self, other: "Cpu") -> "Cpu":
        return Cpu(self.app - other.app, self.database - other.database, self.generator - other.generator,
                   self.machine - other.machine)


# ----------------------------------------------------------------------------------- the load

class Connection:
    """One HTTP/1.1 connection, kept alive while the server allows it."""

    def __init__(self, port: int):
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, path: str, body: bytes) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        self.writer.write(b"POST %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Type: application/x-www-form-urlencoded"
                          b"\r\nContent-Length: %d\r\n\r\n%s" % (path.encode(), self.port, len(body), body))
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers = {k.strip().lower(): v.strip() for k, _s, v in (line.partition(":") for line in lines[1:] if line)}
        payload = await self.reader.readexactly(int(headers.get("content-length", "0")))
        if headers.get("connection", "").lower() == "close":
            self.close()
        return status, payload

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


@dataclass
class Load:
    """What one run sent and got back."""

    latencies: list[float] = field(default_factory=list)
    acknowledged: set[str] = field(default_factory=set)
    fresh: int = 0  # links acknowledged for the first time (stored answers)
    resends_acknowledged: int = 0
    requests: int = 0
    errors: int = 0
    started: float = 0.0
    elapsed: float = 0.0


class Work:
    """The links to send, fresh ones in turn; RESEND of them once more, soon after (often while the
    first is still in flight) or later (after its reply)."""

    def __init__(self, tokens: list[str], question_ids: list[int], rng: random.Random):
        self.fresh = iter(tokens)
        self.ids = question_ids
        self.rng = rng
        self.resends: deque[tuple[str, bytes]] = deque()

    def next(self) -> tuple[str, bytes, bool] | None:
        if self.resends and self.rng.random() < 0.5:
            token, body = self.resends.popleft()
            return token, body, True
        token = next(self.fresh, None)
        if token is None:
            return None
        body = urlencode({f"q{i}": self.rng.choice(ANSWERS) for i in self.ids}).encode()
        if self.rng.random() < RESEND:
            self.resends.append((token, body))
        return token, body, False


async def _client(port: int, work: Work, load: Load, measure_from: float, stop_at: float) -> None:
    connection = Connection(port)
    try:
        while time.perf_counter() < stop_at:
            item = work.next()
            if item is None:
                return
            token, body, resend = item
            path = f"/t/zhen/survey/{token}"
            while True:  # a phone retries until it gets the thank-you
                started = time.perf_counter()
                try:
                    status, payload = await connection.post(path, body)
                except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
                    connection.close()
                    status, payload = 0, b""
                finished = time.perf_counter()
                if started >= measure_from:
                    load.requests += 1
                    load.latencies.append(finished - started)
                if status == 200 and ACK in payload:
                    break
                load.errors += 1
                await asyncio.sleep(0.05)
            if resend:
                load.resends_acknowledged += 1
            else:
                load.fresh += 1
            load.acknowledged.add(token)
    finally:
        connection.close()


async def drive(port: int, server: int, tokens: list[str], question_ids: list[int], seed: int) -> tuple[Load, Load, Cpu]:
    """WARM_UP seconds then DURATION seconds of load: (the warm-up's figures, the measured ones, the CPU
    used while measuring)."""
    work = Work(tokens, question_ids, random.Random(seed))
    warm, load = Load(), Load()
    begin = time.perf_counter()
    await asyncio.gather(*(_client(port, work, warm, begin, begin + WARM_UP) for _ in range(CONNECTIONS)))
    before = Cpu.now(server)
    load.started = time.perf_counter()
    await asyncio.gather(*(_client(port, work, load, load.started, load.started + DURATION)
                           for _ in range(CONNECTIONS)))
    load.elapsed = time.perf_counter() - load.started
    return warm, load, Cpu.now(server) - before


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


# ----------------------------------------------------------------------------------- the report

def run(url: str, seeded: Seeded, remaining: list[str], worker_class: str, workers: int, threads: int,
        seed: int) -> tuple[dict, set[str]]:
    """One gunicorn set-up under load: its row of figures, and every link acknowledged (warm-up too)."""
    process, port = start_gunicorn(url, worker_class, workers, threads)
    try:
        warm, load, cpu = asyncio.run(drive(port, process.pid, remaining, seeded.question_ids, seed))
    finally:
        stop_gunicorn(process)
    if load.requests == 0:
        raise SystemExit(f"survey intake: {worker_class} answered nothing in {DURATION:.0f} s")
    per_request = 1000 / load.requests
    row = {
        "setup": f"{worker_class} {workers}×{threads}" if threads > 1 else f"{worker_class} ×{workers}",
        "answers_per_s": load.fresh / load.elapsed,
        "requests_per_s": load.requests / load.elapsed,
        "p50_ms": statistics.median(load.latencies) * 1000,
        "p95_ms": percentile(load.latencies, 0.95) * 1000,
        "p99_ms": percentile(load.latencies, 0.99) * 1000,
        "acknowledged": load.fresh,
        "resent": load.resends_acknowledged,
        "errors": load.errors + warm.errors,
        "cpu_app_ms": cpu.app * per_request, "cpu_db_ms": cpu.database * per_request,
        "cpu_generator_ms": cpu.generator * per_request,
        "cpu_other_ms": max(0.0, cpu.machine - cpu.app - cpu.database - cpu.generator) * per_request,
        "machine_busy": cpu.machine / load.elapsed / (os.cpu_count() or 1),
    }
    # what the cores would carry were nothing else running: the cores ÷ the CPU an answer costs
    ours = row["cpu_app_ms"] + row["cpu_db_ms"] + row["cpu_generator_ms"]
    row["capacity_answers_per_s"] = (os.cpu_count() or 1) * 1000 / ours * load.fresh / load.requests
    return row, warm.acknowledged | load.acknowledged


def main() -> dict:
    base = os.environ.get("JIXIAO_BENCH_DATABASE_URL") or os.environ.get("JIXIAO_TEST_DATABASE_URL") or DEFAULT_PG
    if not base.startswith("postgresql"):
        print(f"survey intake: skipped (needs PostgreSQL; {base.split('@')[-1]} is not)")
        return {}
    if importlib.util.find_spec("gunicorn") is None:
        print("survey intake: skipped (gunicorn is not installed: `make setup` installs it, with the prod extra)")
        return {}
    try:
        url = _create_database(base)
    except Exception as exc:  # no server there: say so and go on
        print(f"survey intake: skipped ({base.split('@')[-1]} cannot be reached: {exc.__class__.__name__})")
        return {}
    try:
        seeded = seed(url)
        tokens = list(seeded.tokens)
        random.Random(7).shuffle(tokens)
        rows, answered = [], set()
        for number, (worker_class, workers, threads) in enumerate(SETUPS):
            remaining = [t for t in tokens if t not in answered]
            row, acknowledged = run(url, seeded, remaining, worker_class, workers, threads, seed=number)
            answered |= acknowledged
            rows.append(row)
        in_db, distinct, stored_tokens = stored(url, seeded)
        _report(seeded, rows, answered, in_db, distinct, stored_tokens)
        return _figures(rows)
    finally:
        _drop_database(base)


def _report(seeded: Seeded, rows: list[dict], answered: set[str], in_db: int, distinct: int,
            stored_tokens: set[str]) -> None:
    print(f"survey intake through gunicorn on PostgreSQL: {len(seeded.tokens):,} links, "
          f"{len(seeded.question_ids)} answers a POST, {CONNECTIONS} connections, {RESEND:.0%} of links sent twice, "
          f"{DURATION:.0f} s per set-up after {WARM_UP:.0f} s of warm-up")
    header = ("set-up", "answers/s", "requests/s", "p50 ms", "p95 ms", "p99 ms", "acknowledged", "resent", "errors",
              "CPU ms/request: app", "db", "load", "other")
    widths = (13, 10, 11, 8, 8, 8, 13, 8, 7, 20, 5, 5, 6)
    print("  " + " ".join(f"{h:>{w}}" for h, w in zip(header, widths)))
    for row in rows:
        cells = (row["setup"], f"{row['answers_per_s']:.0f}", f"{row['requests_per_s']:.0f}", f"{row['p50_ms']:.1f}",
                 f"{row['p95_ms']:.1f}", f"{row['p99_ms']:.1f}", f"{row['acknowledged']:,}", f"{row['resent']:,}",
                 f"{row['errors']:,}", f"{row['cpu_app_ms']:.2f}", f"{row['cpu_db_ms']:.2f}",
                 f"{row['cpu_generator_ms']:.2f}", f"{row['cpu_other_ms']:.2f}")
        print("  " + " ".join(f"{c:>{w}}" for c, w in zip(cells, widths)))
    ok = in_db == distinct == len(answered) and stored_tokens == answered
    print(f"  in the database: {in_db:,} responses; {len(answered):,} links acknowledged in all runs (warm-ups "
          f"included): {'the same tokens, nothing lost, nothing twice' if ok else 'MISMATCH'}")
    best = max(rows, key=lambda r: r["answers_per_s"])
    met = best["answers_per_s"] >= 300 and best["p99_ms"] < 200
    print(f"  best: {best['setup']} — {best['answers_per_s']:.0f} answers/s, p99 {best['p99_ms']:.0f} ms   "
          f"[target: at least 300 answers/s with p99 under 200 ms: {'met' if met else 'NOT met'}]")
    print(f"  the cores were {best['machine_busy']:.0%} busy, other programs taking {best['cpu_other_ms']:.2f} ms a "
          f"request; with the cores to itself (the app, PostgreSQL and the load generator only) this set-up's CPU "
          f"per answer allows about {best['capacity_answers_per_s']:.0f} answers/s")
    if not ok:
        raise SystemExit("survey intake: the database does not hold exactly the acknowledged answers")


def _figures(rows: list[dict]) -> dict:
    figures = {}
    for row in rows:
        key = row["setup"].split()[0]
        figures.update({f"survey_{key}_answers_per_s": round(row["answers_per_s"], 1),
                        f"survey_{key}_p50_ms": round(row["p50_ms"], 2), f"survey_{key}_p95_ms": round(row["p95_ms"], 2),
                        f"survey_{key}_p99_ms": round(row["p99_ms"], 2),
                        f"survey_{key}_app_cpu_ms": round(row["cpu_app_ms"], 2),
                        f"survey_{key}_capacity_answers_per_s": round(row["capacity_answers_per_s"], 1)})
    return figures


if __name__ == "__main__":
    main()

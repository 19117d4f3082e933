"""`toons bench load`: many clients at once against a fresh `toons local` on loopback.

Each client submits a job of a random size, polls it until it ends, then reads every
result back and checks it: one result per toon, none missing, none repeated. The run
reports what the engine held (jobs/s, toons/s), API latency percentiles, and every
5xx or miscounted job, which must be zero.
"""

from __future__ import annotations

import json
import random
import statistics
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from toons.bench.sample import sample_job
from toons.client import Client, Reply
from toons.local.launcher import LocalProcess


@dataclass
class Tally:
    """What all clients saw, shared under a lock."""

    latencies_ms: list[float] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)
    jobs: int = 0
    toons: int = 0
    miscounted: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def request(self, client: Client, method: str, path: str, body: bytes | None = None) -> Reply:
        """Send and time one request."""
        started = time.perf_counter()
        reply = client.request(method, path, body)
        with self.lock:
            self.latencies_ms.append((time.perf_counter() - started) * 1000)
            self.statuses[reply.status] += 1
        return reply


def _one_job(client: Client, tally: Tally, job_id: str, size: int) -> None:
    body = json.dumps(sample_job(job_id, size, seed=size)).encode()
    if tally.request(client, "POST", "/submit-job", body).status != 202:
        return
    while True:
        status = tally.request(client, "GET", f"/jobs/{job_id}").body
        if status.get("progress", {}).get("completed"):
            break
        time.sleep(0.1)

    seen, token = [], None
    while True:
        query = f"/results?jobId={job_id}&limit=1000" + (f"&nextToken={token}" if token else "")
        page = tally.request(client, "GET", query).body
        seen += [r["toonId"] for r in page["results"]]
        token = page["nextToken"]
        if not token:
            break
    with tally.lock:
        tally.jobs += 1
        tally.toons += size
        if len(seen) != size or len(set(seen)) != size or status["processedToons"] != size:
            tally.miscounted.append(job_id)


def _client_loop(
    local: LocalProcess, tally: Tally, number: int, deadline: float, sizes: tuple[int, int]
) -> None:
    client, rng, n = local.client(f"load-{number}"), random.Random(number), 0
    while time.monotonic() < deadline:
        _one_job(client, tally, f"LOAD-{number}-{n}", rng.randint(*sizes))
        n += 1


def _percentile(values: list[float], pct: float) -> float:
    return statistics.quantiles(values, n=100)[int(pct) - 1] if len(values) > 1 else 0.0


def measure(clients: int, duration_s: float, sizes: tuple[int, int]) -> dict[str, Any]:
    """Run the load and summarise it."""
    tally = Tally()
    with tempfile.TemporaryDirectory(prefix="toons-load-") as tmp, LocalProcess(Path(tmp)) as local:
        deadline = time.monotonic() + duration_s
        started = time.monotonic()
        threads = [
            threading.Thread(target=_client_loop, args=(local, tally, n, deadline, sizes))
            for n in range(clients)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - started
    return {
        "clients": clients,
        "duration_s": round(elapsed, 1),
        "jobs": tally.jobs,
        "toons": tally.toons,
        "jobs_per_s": round(tally.jobs / elapsed, 2),
        "toons_per_s": round(tally.toons / elapsed),
        "requests": len(tally.latencies_ms),
        "p50_ms": round(_percentile(tally.latencies_ms, 50), 1),
        "p99_ms": round(_percentile(tally.latencies_ms, 99), 1),
        "http_5xx": sum(n for status, n in tally.statuses.items() if status >= 500),
        "miscounted_jobs": len(tally.miscounted),
        "statuses": dict(sorted(tally.statuses.items())),
    }


def main(clients: int, duration_s: float, min_toons: int, max_toons: int) -> int:
    """Run the load test; print a table, then the JSON line. Fails on any 5xx or miscount."""
    figures = measure(clients, duration_s, (min_toons, max_toons))
    for key in (
        "clients",
        "duration_s",
        "jobs",
        "toons",
        "jobs_per_s",
        "toons_per_s",
        "requests",
        "p50_ms",
        "p99_ms",
        "http_5xx",
        "miscounted_jobs",
    ):
        print(f"{key:<18}{figures[key]:>14}")
    print(json.dumps(figures))
    return 0 if figures["http_5xx"] == 0 and figures["miscounted_jobs"] == 0 else 1

"""`toons bench local`: the processing function alone vs the whole engine over HTTP.

Both figures come from one run on one machine, so their ratio is meaningful even on a
noisy host: `ratio = e2e / raw` says how much of the raw single-core rate survives the
queue, the result and event writes, aggregation and the HTTP round trips (with all cores).
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from toons.bench.sample import sample_job, sample_toons
from toons.client import Client
from toons.local.launcher import LocalProcess
from toons.model import JobKey, Toon, WorkItem
from toons.processing import default_registry, process_toon


def raw_rate(count: int) -> float:
    """Toons/s of `process_toon` alone over `count` sample toons, in this process."""
    key, registry = JobKey("bench", "RAW"), default_registry()
    items = [
        WorkItem(key, 1, Toon(t["toonId"], t["type"], t["payload"], n))
        for n, t in enumerate(sample_toons(count))
    ]
    started = time.perf_counter()
    for item in items:
        process_toon(item, registry)
    return count / (time.perf_counter() - started)


def end_to_end(client: Client, job_id: str, count: int) -> dict[str, float]:
    """Submit one job of `count` toons and time it until it is Completed."""
    body = json.dumps(sample_job(job_id, count)).encode()
    started = time.perf_counter()
    reply = client.submit(body)
    submitted = time.perf_counter()
    if reply.status != 202:
        raise RuntimeError(f"submit answered {reply.status}: {reply.body}")
    final = client.wait(job_id, timeout_s=600, poll_s=0.02)
    finished = time.perf_counter()
    if final["processedToons"] != count or final["status"] != "Completed":
        raise RuntimeError(f"job ended with {final}")
    return {
        "submit_s": submitted - started,
        "total_s": finished - started,
        "e2e": count / (finished - started),
    }


def measure(count: int, repeat: int) -> dict[str, Any]:
    """Alternate raw and end-to-end runs (so both see the same machine), take medians."""
    raws, runs = [], []
    with (
        tempfile.TemporaryDirectory(prefix="toons-bench-") as tmp,
        LocalProcess(Path(tmp)) as local,
    ):
        client = local.client("bench")
        client.submit(sample_job("WARMUP", 30))
        client.wait("WARMUP")
        for n in range(repeat):
            raws.append(raw_rate(count))
            runs.append(end_to_end(client, f"BENCH-{n}", count))
    raw = statistics.median(raws)
    e2e = statistics.median(run["e2e"] for run in runs)
    return {
        "toons": count,
        "repeat": repeat,
        "raw_toons_per_s": round(raw),
        "e2e_toons_per_s": round(e2e),
        "ratio": round(e2e / raw, 3),
        "submit_s": round(statistics.median(run["submit_s"] for run in runs), 3),
        "total_s": round(statistics.median(run["total_s"] for run in runs), 3),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
    }


def main(count: int, repeat: int) -> int:
    """Run both measurements, print a table, then the JSON line."""
    figures = measure(count, repeat)
    print(f"{'measure (median of ' + str(repeat) + ')':<28}{'value':>14}")
    for label, key in [
        ("raw rate (toons/s, 1 core)", "raw_toons_per_s"),
        ("end to end (toons/s)", "e2e_toons_per_s"),
        ("ratio e2e / raw", "ratio"),
        ("submit (s)", "submit_s"),
        ("submit to Completed (s)", "total_s"),
    ]:
        print(f"{label:<28}{figures[key]:>14}")
    print(json.dumps(figures))
    return 0

"""`kill -9` at any moment loses nothing; a restart finishes every job with exact counts."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import pytest

from toons.bench.sample import sample_job
from toons.config import EngineSettings, Limits
from toons.local.loops import database_path
from toons.model import Job, JobKey, JobStatus
from toons.processing import default_registry
from toons.sqlite import open_ports
from toons.submission import parse_submission

TOONS = 5000


def assert_counted_once(client, job_id: str, total: int) -> None:
    status = client.wait(job_id, timeout_s=180)
    results = client.all_results(job_id)

    assert (status["status"], status["processedToons"], status["failedToons"]) == (
        "Completed",
        total,
        0,
    )
    assert len(results) == total
    assert len({r["toonId"] for r in results}) == total


@pytest.mark.parametrize("kill_after_processed", [0, 1500, 4000])
def test_sigkill_mid_job_then_restart_counts_every_toon_once(local, kill_after_processed):
    client = local.start().client()
    assert client.submit(sample_job("CRASH", TOONS)).status == 202
    client.wait(
        "CRASH",
        timeout_s=60,
        poll_s=0.002,
        settled=lambda s: s["processedToons"] >= kill_after_processed,
    )

    local.kill()
    local.start()

    assert_counted_once(local.client(), "CRASH", TOONS)


def test_sigkill_of_the_main_process_alone_takes_the_workers_down(local):
    client = local.start().client()
    client.submit(sample_job("ORPHANS", TOONS))
    client.wait("ORPHANS", settled=lambda s: s["processedToons"] > 200)
    workers = children_of(local.proc.pid)

    os.kill(local.proc.pid, signal.SIGKILL)
    local.proc.wait()

    assert workers
    assert wait_until_gone(workers)
    local.start()
    assert_counted_once(local.client(), "ORPHANS", TOONS)


def test_a_fan_out_cut_short_by_a_crash_is_resumed_at_start(local):
    body = json.dumps(sample_job("HALF-SUBMITTED", 50)).encode()
    request = parse_submission(body, Limits(), default_registry())
    moment = "2026-01-01T00:00:00.000Z"
    job = Job(
        JobKey("user123", "HALF-SUBMITTED"), JobStatus.PENDING, 50, moment, moment, request.digest
    )
    open_ports(database_path(EngineSettings(data_dir=local.data_dir))).jobs.create(
        job, request.toons
    )

    local.start()

    assert_counted_once(local.client(), "HALF-SUBMITTED", 50)


def test_sigterm_stops_cleanly_and_state_survives(local):
    client = local.start().client()
    client.submit(sample_job("SURVIVOR", 30))
    client.wait("SURVIVOR")

    started = time.monotonic()
    assert local.stop() == 0
    assert time.monotonic() - started < 10

    local.start()
    assert local.client().status("SURVIVOR").body["status"] == "Completed"


def children_of(pid: int) -> list[int]:
    """Live child processes of `pid`, from /proc."""
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            children.append(int(stat.parent.name))
    return children


def wait_until_gone(pids: list[int], timeout_s: float = 5) -> bool:
    """Whether every pid has exited (or is a zombie) within the timeout."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        alive = [
            p
            for p in pids
            if Path(f"/proc/{p}").exists()
            and Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
        ]
        if not alive:
            return True
        time.sleep(0.05)
    return False

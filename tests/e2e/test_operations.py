"""The operators' commands against a running `toons local`: replay, redrive, reprocess."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time

import pytest

from tests.support import plugin_env
from toons.bench.sample import sample_job, sample_toons
from toons.config import EngineSettings
from toons.local.launcher import LocalProcess
from toons.local.loops import database_path
from toons.model import JobKey, JobStatus
from toons.sqlite import open_ports


@pytest.fixture
def engine(tmp_path):
    """A running `toons local` with the test plugins and quick redeliveries."""
    process = LocalProcess(tmp_path / "data", env=plugin_env()).start()
    yield process
    process.kill()


def toons_command(engine: LocalProcess, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "toons.cli",
            *args,
            "--data-dir",
            str(engine.data_dir),
            "--timeout",
            "60",
        ],
        env=engine.env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def store(engine: LocalProcess):
    return open_ports(database_path(EngineSettings(data_dir=engine.data_dir))).jobs


def status_changes(engine: LocalProcess, job_id: str) -> list[str]:
    with sqlite3.connect(engine.data_dir / "toons.db") as db:
        rows = db.execute(
            "SELECT body FROM events WHERE type = 'JobStatusChanged' AND job_id = ? ORDER BY seq",
            (job_id,),
        ).fetchall()
    import json

    return [f"{json.loads(b)['run']}:{json.loads(b)['toStatus']}" for (b,) in rows]


def test_replay_heals_a_job_whose_completion_events_were_lost(engine):
    client = engine.client("alice")
    client.submit(sample_job("LOST", 40))
    client.wait("LOST")
    jobs = store(engine)
    job = jobs.get(JobKey("alice", "LOST"))
    # The events are in the archive but, as far as the job knows, were never counted.
    jobs.save(job.bump(processed_bits=0, status=JobStatus.PROCESSING), job.version)

    result = toons_command(engine, "replay", "--job", "LOST", "--user", "alice")

    assert result.returncode == 0, result.stderr
    assert "replayed 40 completion event(s) of 1 job(s)" in result.stdout
    assert client.status("LOST").body["processedToons"] == 40
    assert client.status("LOST").body["status"] == "Completed"


def test_replaying_twice_changes_nothing(engine):
    client = engine.client("alice")
    client.submit(sample_job("TWICE", 30))
    client.wait("TWICE")
    before = store(engine).get(JobKey("alice", "TWICE"))

    for _ in range(2):
        assert toons_command(engine, "replay", "--job", "TWICE", "--user", "alice").returncode == 0

    assert store(engine).get(JobKey("alice", "TWICE")) == before


def test_replay_by_time_window_counts_nothing_twice(engine):
    client = engine.client("alice")
    client.submit(sample_job("WINDOW", 25))
    client.wait("WINDOW")

    result = toons_command(
        engine, "replay", "--from", "2000-01-01T00:00:00Z", "--to", "2100-01-01T00:00:00Z"
    )

    assert result.returncode == 0, result.stderr
    assert client.status("WINDOW").body["processedToons"] == 25


def test_replaying_someone_elses_job_is_not_found(engine):
    engine.client("alice").submit(sample_job("PRIVATE", 3))

    result = toons_command(engine, "replay", "--job", "PRIVATE", "--user", "bob")

    assert result.returncode == 1
    assert "Job no encontrado" in result.stderr


def test_a_redriven_toon_that_now_succeeds_moves_from_failed_to_processed(engine):
    client = engine.client("alice")
    fail_until = time.time() + 6
    toons = [
        *sample_toons(3),
        {"toonId": "LATE", "type": "UNTIL", "payload": {"failUntil": fail_until}},
    ]
    client.submit({"jobId": "REDRIVE", "toons": toons})
    first = client.wait("REDRIVE", timeout_s=60)
    time.sleep(max(0.0, fail_until - time.time()))

    result = toons_command(engine, "redrive")
    final = client.status("REDRIVE").body

    assert (first["status"], first["processedToons"], first["failedToons"]) == (
        "CompletedWithErrors",
        3,
        1,
    )
    assert result.returncode == 0, result.stderr
    assert "redrove the dead letters of 1 job(s)" in result.stdout
    assert (final["status"], final["processedToons"], final["failedToons"]) == ("Completed", 4, 0)
    late = [r for r in client.all_results("REDRIVE") if r["toonId"] == "LATE"]
    assert [r["status"] for r in late] == ["PROCESSED"]
    engine.client("alice").wait(
        "REDRIVE", settled=lambda _: len(status_changes(engine, "REDRIVE")) >= 4
    )
    assert status_changes(engine, "REDRIVE") == [
        "1:Pending",
        "1:Processing",
        "1:CompletedWithErrors",
        "1:Completed",
    ]


def test_reprocess_runs_the_job_again_as_a_new_run(engine):
    client = engine.client("alice")
    client.submit(sample_job("AGAIN", 50))
    client.wait("AGAIN")

    result = toons_command(engine, "reprocess", "AGAIN", "--user", "alice")
    status = client.wait("AGAIN", settled=lambda s: s["run"] == 2 and s["progress"]["completed"])
    results = client.all_results("AGAIN")

    assert result.returncode == 0, result.stderr
    assert "reprocessing AGAIN as run 2 (50 toons)" in result.stdout
    assert (status["status"], status["processedToons"], status["failedToons"]) == (
        "Completed",
        50,
        0,
    )
    assert {r["run"] for r in results} == {2}
    assert {r["processedData"]["enrichment"]["processedBy"] for r in results} == {
        "ToonProcessor-v1.0"
    }
    assert len(results) == 50


def test_reprocessing_a_running_job_is_refused(engine):
    client = engine.client("alice")
    client.submit(
        {
            "jobId": "BUSY",
            "toons": [
                {"toonId": "SLOW", "type": "UNTIL", "payload": {"failUntil": time.time() + 30}}
            ],
        }
    )

    result = toons_command(engine, "reprocess", "BUSY", "--user", "alice")

    assert result.returncode == 1
    assert "still running" in result.stderr

"""Another user's job does not exist for you: not to read, list, page into, replay or rerun.

User A owns a finished job; user B, with a perfectly valid token, gets exactly the
answer a missing job gets (`Job no encontrado`, JOB_NOT_FOUND), and A's job is left as
it was. The operators' commands take a `--user` too: on `toons local` they are run as
the command line (`toons replay`, `toons reprocess`); on the cloud flow, through the
stack operations they call.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from toons.bench.sample import sample_job
from toons.errors import NotFound
from toons.model import JobKey

NOT_FOUND = {"error": "Job no encontrado", "code": "JOB_NOT_FOUND"}


@pytest.fixture
def owned_job(backend, user, unique_id) -> tuple[str, str, dict]:
    """A's finished three-toon job: (A, jobId, its status)."""
    client = backend.client(user)
    assert client.submit(sample_job(unique_id, 3)).status == 202
    return user, unique_id, client.wait(unique_id)


def test_another_user_reading_the_status_gets_not_found(backend, owned_job):
    _, job_id, _ = owned_job
    intruder = backend.client("intruder")

    reply = intruder.status(job_id)

    assert (reply.status, reply.body) == (404, NOT_FOUND)
    assert intruder.status("NO-SUCH-JOB").body == reply.body, "same as a missing job"


def test_another_user_reading_the_results_gets_not_found(backend, owned_job):
    _, job_id, _ = owned_job

    reply = backend.client("intruder").results(job_id)

    assert (reply.status, reply.body) == (404, NOT_FOUND)


def test_another_users_job_list_does_not_show_the_job(backend, owned_job):
    owner, job_id, _ = owned_job
    backend.settle(lambda: any(j["jobId"] == job_id for j in _listed(backend, owner)))

    assert job_id not in {j["jobId"] for j in _listed(backend, "intruder")}


def _listed(backend, user: str) -> list[dict]:
    reply = backend.client(user).jobs(limit=1000)
    assert reply.status == 200
    return reply.body["jobs"]


def test_the_owners_page_token_shows_another_user_only_their_own_jobs(backend, user, unique_id):
    owner = backend.client(user)
    for n in range(3):
        owner.submit(sample_job(f"{unique_id}-{n}", 1))
    backend.settle(lambda: len(_listed(backend, user)) == 3)
    token = owner.jobs(limit=1).body["nextToken"]
    assert token

    reply = backend.client(f"{user}-intruder").jobs(limit=10, nextToken=token)

    assert reply.status in (200, 400), reply.body
    assert reply.status == 400 or reply.body["jobs"] == []


def test_the_same_job_id_under_another_user_is_another_job(backend, owned_job):
    owner, job_id, before = owned_job
    intruder = backend.client(f"{owner}-intruder")

    reply = intruder.submit(sample_job(job_id, 5, seed=99))

    assert reply.status == 202, "not a conflict: the intruder's jobId names the intruder's job"
    assert intruder.wait(job_id)["totalToons"] == 5
    assert backend.client(owner).status(job_id).body == before


def _local_command(backend, *args: str) -> tuple[int, str]:
    process = backend.process
    done = subprocess.run(
        [sys.executable, "-m", "toons.cli", *args, "--data-dir", str(process.data_dir)],
        env=process.env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return done.returncode, done.stderr


def _refused_operation(backend, command: str, key: JobKey) -> str:
    """Run `replay` or `reprocess` for `key`; what the operator is told."""
    if backend.name == "local":
        args = {
            "replay": ["replay", "--job", key.job_id, "--user", key.owner],
            "reprocess": ["reprocess", key.job_id, "--user", key.owner],
        }[command]
        code, stderr = _local_command(backend, *args, "--timeout", "10")
        assert code == 1, stderr
        return stderr
    operations = backend.operations()
    with pytest.raises(NotFound) as refused:
        getattr(operations, command)(key)
    return refused.value.message


@pytest.mark.parametrize("command", ["replay", "reprocess"])
def test_another_user_replaying_or_reprocessing_the_job_gets_not_found(backend, owned_job, command):
    owner, job_id, before = owned_job

    told = _refused_operation(backend, command, JobKey(f"{owner}-intruder", job_id))

    assert "Job no encontrado" in told
    after = backend.client(owner).status(job_id).body
    assert after == before, "the owner's job is untouched"

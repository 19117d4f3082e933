"""A poison toon that always raises is dead-lettered, recorded FAILED, and its job ends.

Also with the dead-letter step itself dying after it recorded the failures and before
it parked the letters: the letters are recorded again, which changes nothing.
"""

from __future__ import annotations

from tests.faults.checks import assert_promises_held
from toons.bench.sample import sample_toons

HEALTHY = 19


def _poisoned_job(job_id: str) -> dict:
    poison = {"toonId": "POISONED", "type": "POISON", "payload": {}}
    return {"jobId": job_id, "toons": [*sample_toons(HEALTHY), poison]}


def _assert_poison_failed_with_its_reason(results: list[dict]) -> None:
    [poisoned] = [r for r in results if r["toonId"] == "POISONED"]
    assert poisoned["status"] == "FAILED"
    assert "poison toon" in poisoned["error"]["reason"]
    assert poisoned["error"]["attempts"] == 5
    assert poisoned["fingerprint"] is None
    assert all(r["status"] == "PROCESSED" for r in results if r["toonId"] != "POISONED")


def test_a_poison_toon_is_dead_lettered_and_its_job_ends_with_errors(backend, owner, unique_id):
    backend.start()

    assert backend.client(owner).submit(_poisoned_job(unique_id)).status == 202
    _, results = assert_promises_held(backend, owner, unique_id, HEALTHY + 1, failed=1)

    _assert_poison_failed_with_its_reason(results)


def test_a_crash_after_recording_dead_letters_records_each_failure_once(backend, owner, unique_id):
    backend.start({"dead_letters.after_record": {"after": 0, "times": 1}})
    assert backend.client(owner).submit(_poisoned_job(unique_id)).status == 202
    backend.until_fired("dead_letters.after_record", timeout_s=60)

    backend.recover()
    _, results = assert_promises_held(backend, owner, unique_id, HEALTHY + 1, failed=1)

    _assert_poison_failed_with_its_reason(results)

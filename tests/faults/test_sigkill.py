"""`toons local` killed with SIGKILL at random moments of a 3,000-toon job, then restarted.

The moments are drawn from a seeded generator over the whole life of the job, from the
submit request (which may be cut short: the client then submits the same body again,
as it would after a dropped connection) to the last completions. Each seed kills the
engine twice. Local only: the cloud flow has no process to kill.
"""

from __future__ import annotations

import contextlib
import http.client
import random
import threading
import time

import pytest

from tests.faults.checks import assert_promises_held
from toons.bench.sample import sample_job

TOONS = 3000
KILLS = 2


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_sigkill_at_random_moments_then_restart_counts_every_toon_once(
    local_faults, owner, unique_id, seed
):
    rng = random.Random(seed)
    body = sample_job(unique_id, TOONS)
    local_faults.start(workers=2)
    client = local_faults.client(owner)

    def submit() -> None:
        # Killed under the request: the body is submitted again below.
        with contextlib.suppress(OSError, http.client.HTTPException):
            client.submit(body)

    submitting = threading.Thread(target=submit)
    submitting.start()
    for _ in range(KILLS):
        time.sleep(rng.uniform(0.0, 1.2))  # the moment of the crash is the point of the test
        local_faults.kill()
        local_faults.process.start()
    submitting.join(30)

    assert local_faults.client(owner).submit(body).status == 202
    assert_promises_held(local_faults, owner, unique_id, TOONS, timeout_s=120)

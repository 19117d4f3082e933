"""A toon delivered more than once is counted once and keeps one result.

At-least-once queues deliver twice: a fan-out resumed after a crash enqueues a toon
again, two workers may hold copies of one toon at the same moment, and a worker slower
than the visibility timeout sees its toons handed to another worker while it is still
busy with them. How each backend is made to do that is in the `_on_*` helpers below;
the promises checked afterwards are the same.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from pathlib import Path

from tests.faults.checks import assert_promises_held
from toons.bench.sample import sample_job, sample_toons
from toons.config import EngineSettings
from toons.local.loops import Steps
from toons.model import JobKey, WorkItem

TOONS = 30


def _submit_with_every_toon_queued_twice(backend, owner: str, job_id: str) -> list[WorkItem]:
    """Submit through the service, then enqueue every toon of the job a second time."""
    service = backend.service()
    service.submit_job(owner, json.dumps(sample_job(job_id, TOONS)).encode())
    key = JobKey(owner, job_id)
    items = [WorkItem(key, 1, toon) for toon in service.ports.jobs.toons(key)]
    service.ports.queue.enqueue(items)
    return items


def test_every_toon_queued_twice_counts_once(backend, owner, unique_id):
    _submit_with_every_toon_queued_twice(backend, owner, unique_id)

    backend.start()

    assert_promises_held(backend, owner, unique_id, TOONS)
    assert backend.queued(owner, unique_id) == 0


def _on_local_two_workers_at_once(backend, owner: str, job_id: str) -> None:
    """Two engines' worker steps on one data dir, each holding one copy of every toon."""
    settings = EngineSettings(data_dir=backend.data_dir, batch_size=TOONS)
    workers = [Steps.open(settings), Steps.open(settings)]
    start = threading.Barrier(2)
    busy: list[bool] = []

    def work(steps: Steps) -> None:
        start.wait()
        busy.append(steps.work())

    threads = [threading.Thread(target=work, args=(steps,)) for steps in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert busy == [True, True]
    assert backend.queued(owner, job_id) == 0
    backend.start()


def _on_aws_two_workers_at_once(backend, owner: str, job_id: str) -> None:
    """Two worker invocations at once with the same SQS records (both copies received)."""
    from toons.aws import wiring

    flow = backend.flow
    backend.start()
    records = _received_records(flow, 2 * TOONS)
    worker = wiring.function("worker")
    answers: list[dict] = []
    start = threading.Barrier(2)

    def invoke(batch: list[dict]) -> None:
        start.wait()
        answers.append(flow.invoke(worker, {"Records": batch}))

    first, second = [], []
    for record in records:  # one copy of every toon in each invocation
        seen = {json.loads(r["body"])["index"] for r in first}
        (second if json.loads(record["body"])["index"] in seen else first).append(record)
    threads = [threading.Thread(target=invoke, args=(half,)) for half in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert answers == [{"batchItemFailures": []}] * 2
    _delete(flow, records)


def _received_records(flow, count: int) -> list[dict]:
    """Receive `count` messages from the work queue, as Lambda records, in queue order."""
    from toons.aws.flow import _receive_up_to, _sqs_record

    url = flow.names.work_queue_url
    messages = _receive_up_to(flow.client("sqs"), url, count)
    assert len(messages) == count
    arn = flow.client("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
    return [_sqs_record(m, arn["Attributes"]["QueueArn"]) for m in messages]


def _delete(flow, records: list[dict]) -> None:
    """Acknowledge records (a receipt handle that went stale is simply refused)."""
    sqs = flow.client("sqs")
    for record in records:
        with contextlib.suppress(sqs.exceptions.ClientError):
            sqs.delete_message(
                QueueUrl=flow.names.work_queue_url, ReceiptHandle=record["receiptHandle"]
            )


def test_two_workers_processing_the_same_toons_at_once_count_each_once(backend, owner, unique_id):
    _submit_with_every_toon_queued_twice(backend, owner, unique_id)

    {"local": _on_local_two_workers_at_once, "aws": _on_aws_two_workers_at_once}[backend.name](
        backend, owner, unique_id
    )

    assert_promises_held(backend, owner, unique_id, TOONS)


def _slow_job(job_id: str, log: Path) -> dict:
    slow = {"toonId": "SLOW-1", "type": "SLOW", "payload": {"log": str(log), "sleepS": 3}}
    return {"jobId": job_id, "toons": [*sample_toons(TOONS - 1), slow]}


def _on_local_a_worker_outlasts_its_timeout(backend, owner: str, job_id: str, log: Path) -> None:
    """A worker stalls 3 s on a batch hidden for 1 s: the other worker takes the batch.

    The engine is then stopped cleanly, which lets the stalled worker finish its step
    (store, publish, acknowledge), and started again.
    """
    backend.start(workers=2, visibility_s=1)
    client = backend.client(owner)
    assert client.submit(_slow_job(job_id, log)).status == 202
    client.wait(job_id, timeout_s=30)
    assert log.read_text().count("start") == 2, "a second worker should have taken the toon"

    assert backend.process.stop() == 0
    backend.process.start()


def _on_aws_a_worker_outlasts_its_timeout(backend, owner: str, job_id: str, log: Path) -> None:
    """An invocation holding the job's messages stalls past their visibility timeout.

    The messages, hidden for 1 s, are received again by the flow's worker, which
    finishes the job while the first invocation still stalls (3 s); then that one ends
    too and acknowledges with receipts that went stale.
    """
    from toons.aws import wiring

    flow = backend.flow
    backend.start()
    client = backend.client(owner)
    assert client.submit(_slow_job(job_id, log)).status == 202
    stale = _received_records(flow, TOONS)
    answers: list[dict] = []
    slow = threading.Thread(
        target=lambda: answers.append(flow.invoke(wiring.function("worker"), {"Records": stale}))
    )
    slow.start()
    time.sleep(1.2)  # the visibility timeout (1 s) passes while the slow worker stalls

    client.wait(job_id, timeout_s=60)
    slow.join(30)
    assert answers == [{"batchItemFailures": []}]
    _delete(flow, stale)


def test_a_worker_slower_than_the_visibility_timeout_counts_nothing_twice(
    backend, owner, unique_id, tmp_path
):
    log = tmp_path / "slow.log"
    log.touch()

    {
        "local": _on_local_a_worker_outlasts_its_timeout,
        "aws": _on_aws_a_worker_outlasts_its_timeout,
    }[backend.name](backend, owner, unique_id, log)

    _, results = assert_promises_held(backend, owner, unique_id, TOONS)
    assert log.read_text().count("end") == 2, "both workers should have finished the toon"
    [slow] = [r for r in results if r["toonId"] == "SLOW-1"]
    assert slow["processedData"]["payload"]["processing"] == 2, "the first stored result stays"

"""The work queue on SQS, and the parking lot where dead-lettered toons wait for a redrive.

A message is one `WorkItem` as JSON. Messages go out in `SendMessageBatch` calls of at
most ten entries, sent concurrently; entries SQS reports as failed are retried with
backoff, and `enqueue` raises if any is still refused (the submit then fails and the
client's retry repairs it: the job stays Pending and duplicate messages are harmless).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import Any

from toons.aws.clients import (
    ENV_VARS,
    AwsAdapter,
    AwsNames,
    Clients,
    DeliveryError,
    MissingResource,
    backoff,
    run_all,
    translate,
)
from toons.model import WorkItem

log = logging.getLogger(__name__)

BATCH_ENTRIES = 10
# The batch size limit of a queue created with the historical 256 KiB maximum.
BATCH_BYTES = 256 * 1024
ATTEMPTS = 5
RETRY_BASE_S = 0.05


def batches(bodies: Sequence[str]) -> list[list[str]]:
    """The bodies in order, split into batches SendMessageBatch accepts (count and bytes)."""
    out: list[list[str]] = []
    current: list[str] = []
    size = 0
    for body in bodies:
        length = len(body.encode())
        if current and (len(current) == BATCH_ENTRIES or size + length > BATCH_BYTES):
            out.append(current)
            current, size = [], 0
        current.append(body)
        size += length
    if current:
        out.append(current)
    return out


class BatchSender:
    """Sends message bodies to one queue, retrying the entries SQS refuses."""

    def __init__(
        self,
        clients: Clients,
        url: str,
        attempts: int = ATTEMPTS,
        retry_base_s: float = RETRY_BASE_S,
    ) -> None:
        self._clients = clients
        self.url = url
        self.attempts = attempts
        self.retry_base_s = retry_base_s

    @property
    def client(self) -> Any:
        """The SQS client (created on first use)."""
        return self._clients.client("sqs")

    def send(self, bodies: Sequence[str]) -> None:
        """Send every body; raise `DeliveryError` if any is still refused after the retries."""
        run_all(self._send_batch, batches(bodies))

    def _send_batch(self, bodies: list[str]) -> None:
        pending = {str(i): body for i, body in enumerate(bodies)}
        for attempt in range(1, self.attempts + 1):
            failed = self._send_entries(pending)
            pending = {entry["Id"]: pending[entry["Id"]] for entry in failed}
            if not pending:
                return
            if any(entry.get("SenderFault") for entry in failed) or attempt == self.attempts:
                raise DeliveryError(_failure_text(self.url, failed, attempt))
            log.debug("retrying refused messages", extra={"queue": self.url, "count": len(failed)})
            backoff(attempt, self.retry_base_s)

    def _send_entries(self, pending: dict[str, str]) -> list[dict[str, Any]]:
        entries = [{"Id": id_, "MessageBody": body} for id_, body in pending.items()]
        with translate(f"queue {self.url}"):
            answer = self.client.send_message_batch(QueueUrl=self.url, Entries=entries)
        return answer.get("Failed", [])


def _failure_text(url: str, failed: list[dict[str, Any]], attempts: int) -> str:
    codes = sorted({str(entry.get("Code")) for entry in failed})
    return f"{len(failed)} message(s) to {url} refused after {attempts} attempt(s): {codes}"


class SqsQueue(AwsAdapter):
    """The work queue: one message per toon of a run."""

    service = "sqs"

    def __init__(
        self,
        url: str | None,
        session: Any = None,
        attempts: int = ATTEMPTS,
        retry_base_s: float = RETRY_BASE_S,
    ) -> None:
        super().__init__(session)
        self.url = url
        self.attempts = attempts
        self.retry_base_s = retry_base_s

    def enqueue(self, items: Sequence[WorkItem]) -> None:
        """Send one message per item; raise if any could not be sent."""
        if not items:
            return
        if not self.url:
            raise MissingResource(f"{ENV_VARS['work_queue_url']} is not set: no work queue")
        # ASCII-escaped JSON: SQS refuses some raw characters (U+FFFE, U+FFFF) in bodies.
        bodies = [json.dumps(item.to_dict()) for item in items]
        BatchSender(self._clients, self.url, self.attempts, self.retry_base_s).send(bodies)
        log.debug("toons enqueued", extra={"jobId": items[0].key.job_id, "count": len(items)})


class Parking(AwsAdapter):
    """The parked queue: dead-lettered messages, kept until an operator redrives them."""

    service = "sqs"

    def __init__(
        self,
        names: AwsNames,
        session: Any = None,
        wait_s: int = 1,
        attempts: int = ATTEMPTS,
        retry_base_s: float = RETRY_BASE_S,
    ) -> None:
        super().__init__(session)
        self.names = names
        self.wait_s = wait_s
        self.attempts = attempts
        self.retry_base_s = retry_base_s

    def park(self, bodies: Sequence[str]) -> None:
        """Keep message bodies in the parked queue; raise if any could not be sent."""
        if bodies:
            self._sender("parked_queue_url").send(bodies)

    def redrive(self, limit: int | None = None) -> list[str]:
        """Move parked messages (all, or at most `limit`) back to the work queue.

        Each message is deleted from the parked queue only after it is sent, so a crash
        duplicates a message at worst, which the stores absorb. Returns the moved bodies.
        """
        parked = self.names.require("parked_queue_url")
        work = self._sender("work_queue_url")
        moved: list[str] = []
        while limit is None or len(moved) < limit:
            wanted = 10 if limit is None else min(10, limit - len(moved))
            messages = self._receive(parked, wanted)
            if not messages:
                break

            work.send([message["Body"] for message in messages])
            self._delete(parked, messages)
            moved += [message["Body"] for message in messages]
        log.debug("parked messages redriven", extra={"count": len(moved)})
        return moved

    def _sender(self, field: str) -> BatchSender:
        url = self.names.require(field)
        return BatchSender(self._clients, url, self.attempts, self.retry_base_s)

    def _receive(self, url: str, count: int) -> list[dict[str, Any]]:
        with translate(f"queue {url}"):
            answer = self.client.receive_message(
                QueueUrl=url,
                MaxNumberOfMessages=count,
                WaitTimeSeconds=self.wait_s,
                VisibilityTimeout=60,
            )
        return answer.get("Messages", [])

    def _delete(self, url: str, messages: list[dict[str, Any]]) -> None:
        entries = [
            {"Id": str(i), "ReceiptHandle": message["ReceiptHandle"]}
            for i, message in enumerate(messages)
        ]
        with translate(f"queue {url}"):
            answer = self.client.delete_message_batch(QueueUrl=url, Entries=entries)
        if answer.get("Failed"):
            # A message not deleted reappears after its visibility timeout and moves again.
            log.debug("parked messages not deleted", extra={"count": len(answer["Failed"])})

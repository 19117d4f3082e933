"""The job store, the result store and the failure notes on DynamoDB.

Items are written with the low-level client in attribute-value form built here (S, N,
B), so no Decimal conversions happen and the resource layer is never imported. Every
write is conditional or idempotent, as the ports require:

- jobs: `userId`/`jobId`; the bitmaps are little-endian bytes (`toons.tally.to_bytes`),
  and every replacement is conditioned on the version it read.
- toons: `jobKey` ("owner/jobId") / `part`. The toons of a job live in chunks keyed by
  the request digest, so a conflicting body (a 409) never overwrites the real job's
  toons; failure notes of the worker live beside them.
- results: `jobKey` / `index`; a put is conditioned on `ToonResult.supersedes`.
- job-list: `userId` / `listKey` ("createdAt#jobId"), newest first by sort key.
"""

from __future__ import annotations

import base64
import json
import logging
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from toons import tally
from toons.aws.clients import AwsAdapter, AwsNames, run_all, translate
from toons.aws.wiring import OPEN_JOBS
from toons.errors import StoreConflict
from toons.model import (
    Job,
    JobChange,
    JobKey,
    JobStatus,
    JobSummary,
    Outcome,
    Toon,
    ToonResult,
    WorkItem,
)
from toons.ports import Page, Position

log = logging.getLogger(__name__)

Item = dict[str, dict[str, Any]]

# DynamoDB items hold at most 400 KB; a chunk of toons stays well below it.
CHUNK_BYTES = 300_000
OPEN_SHARD = "open"
# A failure reason is an exception's text; keep the note item small whatever it says.
MAX_REASON_CHARS = 8_000
# Sort keys hold at most 1024 bytes: a longer position cannot be a stored row.
MAX_SORT_KEY_BYTES = 1024
# Numbers hold 38 digits; no toon index comes near this.
MAX_INDEX = 10**18


# -- attribute values ---------------------------------------------------------------------


def _s(value: str) -> dict[str, str]:
    return {"S": value}


def _n(value: int) -> dict[str, str]:
    return {"N": str(value)}


def _b(value: bytes) -> dict[str, bytes]:
    return {"B": value}


def _int(value: Mapping[str, Any]) -> int:
    return int(value["N"])


def _bytes(value: Mapping[str, Any]) -> bytes:
    raw = value["B"]
    # Lambda delivers stream images as JSON, where binary values are base64 text.
    return base64.b64decode(raw) if isinstance(raw, str) else bytes(raw)


# -- jobs -----------------------------------------------------------------------------------


def job_item(job: Job) -> Item:
    """The jobs-table item of a job; an open job also carries the open-jobs index key."""
    item = {
        "userId": _s(job.key.owner),
        "jobId": _s(job.key.job_id),
        "status": _s(str(job.status)),
        "total": _n(job.total),
        "run": _n(job.run),
        "createdAt": _s(job.created_at),
        "updatedAt": _s(job.updated_at),
        "digest": _s(job.request_digest),
        "processedBits": _b(tally.to_bytes(job.processed_bits, job.total)),
        "failedBits": _b(tally.to_bytes(job.failed_bits, job.total)),
        "version": _n(job.version),
    }
    if not job.status.is_terminal:
        item[OPEN_JOBS.hash_key[0]] = _s(OPEN_SHARD)
    return item


def job_from_item(item: Mapping[str, Any]) -> Job:
    """Read back a jobs-table item written by `job_item`."""
    return Job(
        key=JobKey(item["userId"]["S"], item["jobId"]["S"]),
        status=JobStatus(item["status"]["S"]),
        total=_int(item["total"]),
        created_at=item["createdAt"]["S"],
        updated_at=item["updatedAt"]["S"],
        request_digest=item["digest"]["S"],
        run=_int(item["run"]),
        processed_bits=tally.from_bytes(_bytes(item["processedBits"])),
        failed_bits=tally.from_bytes(_bytes(item["failedBits"])),
        version=_int(item["version"]),
    )


def summary_from_image(image: Mapping[str, Any]) -> JobSummary:
    """The job-list slice of a jobs-table item (as a stream image or a read item)."""
    return job_from_item(image).summary()


def job_change_from_stream_record(record: Mapping[str, Any]) -> JobChange | None:
    """The change a DynamoDB Streams record of the jobs table reports; None for a REMOVE.

    Accepts the record as Lambda delivers it (binary as base64 text) or as the
    dynamodbstreams client returns it (binary as bytes).
    """
    if record.get("eventName") == "REMOVE":
        return None
    images = record["dynamodb"]
    new = images.get("NewImage")
    if new is None:
        return None
    old = images.get("OldImage")
    return JobChange(summary_from_image(old) if old else None, summary_from_image(new))


def _key_item(key: JobKey) -> Item:
    return {"userId": _s(key.owner), "jobId": _s(key.job_id)}


def _toon_chunks(toons: Sequence[Toon]) -> list[str]:
    """The toons as JSON lists of at most about `CHUNK_BYTES` each, in index order."""
    chunks, current, size = [], [], 2
    for toon in sorted(toons, key=lambda t: t.index):
        encoded = json.dumps({**toon.to_dict(), "index": toon.index})
        length = len(encoded.encode()) + 1
        if current and size + length > CHUNK_BYTES:
            chunks.append("[" + ",".join(current) + "]")
            current, size = [], 2
        current.append(encoded)
        size += length
    if current:
        chunks.append("[" + ",".join(current) + "]")
    return chunks


def _toons_prefix(digest: str) -> str:
    return f"toons#{digest}#"


def _toons_from_chunk(packed: bytes) -> list[Toon]:
    data = json.loads(zlib.decompress(packed))
    return [Toon(d["toonId"], d["type"], d["payload"], d["index"]) for d in data]


class DynamoJobStore(AwsAdapter):
    """Jobs with their bitmaps, the toons they hold, and the per-user job list."""

    service = "dynamodb"

    def __init__(self, names: AwsNames, session: Any = None) -> None:
        super().__init__(session)
        self.names = names

    def create(self, job: Job, toons: Sequence[Toon]) -> Job | None:
        """Store the toons, then the job, unless the key exists (then the stored job)."""
        stored = self.get(job.key)
        if stored is not None:
            return stored

        self._put_toons(job.key, job.request_digest, toons)

        table = self.names.require("jobs_table")
        try:
            with translate(f"table {table}"):
                self.client.put_item(
                    TableName=table,
                    Item=job_item(job),
                    ConditionExpression="attribute_not_exists(jobId)",
                )
        except StoreConflict:
            # Another submit of the same key won the race: answer with what it stored.
            log.debug("job create lost a race", extra=_job_keys(job.key))
            return self.get(job.key)
        log.debug("job created", extra={**_job_keys(job.key), "toons": len(toons)})
        return None

    def get(self, key: JobKey) -> Job | None:
        """The job (a consistent read), or None."""
        item = self._read(key)
        return job_from_item(item) if item else None

    def toons(self, key: JobKey) -> list[Toon]:
        """The job's toons in index order (those of the body that created the job)."""
        item = self._read(key, projection="digest")
        if item is None:
            return []
        table = self.names.require("toons_table")
        pages = _query(
            self.client,
            TableName=table,
            KeyConditionExpression="jobKey = :k AND begins_with(part, :prefix)",
            ExpressionAttributeValues={
                ":k": _s(str(key)),
                ":prefix": _s(_toons_prefix(item["digest"]["S"])),
            },
            ConsistentRead=True,
        )
        toons = [toon for row in pages for toon in _toons_from_chunk(_bytes(row["toons"]))]
        return sorted(toons, key=lambda toon: toon.index)

    def finish_fan_out(self, key: JobKey, now: str) -> None:
        """Pending -> Processing, version + 1; nothing in any other status."""
        table = self.names.require("jobs_table")
        try:
            with translate(f"table {table}"):
                self.client.update_item(
                    TableName=table,
                    Key=_key_item(key),
                    UpdateExpression="SET #s = :processing, #v = #v + :one, updatedAt = :now",
                    ConditionExpression="#s = :pending",
                    ExpressionAttributeNames={"#s": "status", "#v": "version"},
                    ExpressionAttributeValues={
                        ":processing": _s(str(JobStatus.PROCESSING)),
                        ":pending": _s(str(JobStatus.PENDING)),
                        ":one": _n(1),
                        ":now": _s(now),
                    },
                )
        except StoreConflict:
            log.debug("fan-out already finished", extra=_job_keys(key))

    def save(self, job: Job, expected_version: int) -> None:
        """Replace the job if its stored version is `expected_version`, else `StoreConflict`."""
        table = self.names.require("jobs_table")
        with translate(f"table {table}"):
            self.client.put_item(
                TableName=table,
                Item=job_item(job),
                ConditionExpression="#v = :expected",
                ExpressionAttributeNames={"#v": "version"},
                ExpressionAttributeValues={":expected": _n(expected_version)},
            )
        log.debug("job saved", extra={**_job_keys(job.key), "version": job.version})

    def open_jobs(self, updated_before: str) -> list[JobKey]:
        """Jobs not yet terminal whose last write is older than `updated_before`."""
        request = {
            "TableName": self.names.require("jobs_table"),
            "IndexName": OPEN_JOBS.name,
            "KeyConditionExpression": "openShard = :open AND updatedAt < :before",
            "ExpressionAttributeValues": {":open": _s(OPEN_SHARD), ":before": _s(updated_before)},
        }
        return [
            JobKey(row["userId"]["S"], row["jobId"]["S"]) for row in _query(self.client, **request)
        ]

    def project(self, summary: JobSummary) -> None:
        """Upsert the owner's list row unless the stored row has the same or a newer version."""
        table = self.names.require("job_list_table")
        try:
            with translate(f"table {table}"):
                self.client.put_item(
                    TableName=table,
                    Item=_list_item(summary),
                    ConditionExpression="attribute_not_exists(listKey) OR #v < :v",
                    ExpressionAttributeNames={"#v": "version"},
                    ExpressionAttributeValues={":v": _n(summary.version)},
                )
        except StoreConflict:
            log.debug("stale projection ignored", extra=_job_keys(summary.key))

    def list_jobs(self, owner: str, limit: int, after: Position | None) -> Page[JobSummary]:
        """The owner's jobs, newest first; `next_position` only when more rows exist."""
        table = self.names.require("job_list_table")
        request: dict[str, Any] = {
            "TableName": table,
            "KeyConditionExpression": "userId = :o",
            "ExpressionAttributeValues": {":o": _s(owner)},
            "ScanIndexForward": False,
        }
        if after is not None:
            start = f"{after['createdAt']}#{after['jobId']}"
            if len(start.encode()) > MAX_SORT_KEY_BYTES:
                return Page([])
            request["ExclusiveStartKey"] = {"userId": _s(owner), "listKey": _s(start)}

        rows = _query_up_to(self.client, limit + 1, request)
        items = [_summary_from_row(owner, row) for row in rows[:limit]]
        last = items[-1] if len(rows) > limit else None
        position = {"createdAt": last.created_at, "jobId": last.key.job_id} if last else None
        return Page(items, position)

    def _read(self, key: JobKey, projection: str | None = None) -> Item | None:
        table = self.names.require("jobs_table")
        request: dict[str, Any] = {
            "TableName": table,
            "Key": _key_item(key),
            "ConsistentRead": True,
        }
        if projection:
            request["ProjectionExpression"] = projection
        with translate(f"table {table}"):
            return self.client.get_item(**request).get("Item")

    def _put_toons(self, key: JobKey, digest: str, toons: Sequence[Toon]) -> None:
        table = self.names.require("toons_table")
        chunks = _toon_chunks(toons)
        prefix = _toons_prefix(digest)

        def put(numbered: tuple[int, str]) -> None:
            number, text = numbered
            item = {
                "jobKey": _s(str(key)),
                "part": _s(f"{prefix}{number:04d}"),
                "toons": _b(zlib.compress(text.encode())),
            }
            with translate(f"table {table}"):
                self.client.put_item(TableName=table, Item=item)

        run_all(put, list(enumerate(chunks)))
        log.debug("toons stored", extra={**_job_keys(key), "chunks": len(chunks)})


def _list_item(summary: JobSummary) -> Item:
    row = summary.to_dict()
    return {
        "userId": _s(summary.key.owner),
        "listKey": _s(f"{summary.created_at}#{summary.key.job_id}"),
        "jobId": _s(row["jobId"]),
        "status": _s(row["status"]),
        "totalToons": _n(row["totalToons"]),
        "processedToons": _n(row["processedToons"]),
        "failedToons": _n(row["failedToons"]),
        "run": _n(row["run"]),
        "createdAt": _s(row["createdAt"]),
        "updatedAt": _s(row["updatedAt"]),
        "version": _n(summary.version),
    }


def _summary_from_row(owner: str, row: Mapping[str, Any]) -> JobSummary:
    data = {
        "jobId": row["jobId"]["S"],
        "status": row["status"]["S"],
        "totalToons": _int(row["totalToons"]),
        "processedToons": _int(row["processedToons"]),
        "failedToons": _int(row["failedToons"]),
        "run": _int(row["run"]),
        "createdAt": row["createdAt"]["S"],
        "updatedAt": row["updatedAt"]["S"],
    }
    return JobSummary.from_dict(owner, data, _int(row["version"]))


# -- queries --------------------------------------------------------------------------------


def _query(client: Any, **request: Any) -> Iterator[Item]:
    """Every item a query matches, following `LastEvaluatedKey`."""
    while True:
        with translate(f"table {request['TableName']}"):
            answer = client.query(**request)
        yield from answer.get("Items", [])
        if "LastEvaluatedKey" not in answer:
            return
        request = {**request, "ExclusiveStartKey": answer["LastEvaluatedKey"]}


def _query_up_to(client: Any, count: int, request: dict[str, Any]) -> list[Item]:
    """At most `count` items of a query; asks again when a page stops short (1 MB cap)."""
    rows: list[Item] = []
    while len(rows) < count:
        with translate(f"table {request['TableName']}"):
            answer = client.query(**request, Limit=count - len(rows))
        rows.extend(answer.get("Items", []))
        if "LastEvaluatedKey" not in answer:
            break
        request = {**request, "ExclusiveStartKey": answer["LastEvaluatedKey"]}
    return rows


# -- results --------------------------------------------------------------------------------


def result_item(result: ToonResult) -> Item:
    """The results-table item of a result.

    The record and the processed toon travel zlib-compressed in one binary attribute:
    DynamoDB bills writes per KB stored, and JSON shrinks to about a third.
    """
    text = json.dumps(result.to_record()) + "\n" + (result.processed_text() or "")
    return {
        "jobKey": _s(str(result.key)),
        "index": _n(result.index),
        "run": _n(result.run),
        "outcome": _s(str(result.outcome)),
        "result": _b(zlib.compress(text.encode())),
    }


def supersede_condition(result: ToonResult) -> dict[str, Any]:
    """`ToonResult.supersedes` as a condition on the stored item, for PutItem.

    The clause "same run, stored FAILED, new PROCESSED" is included only when the new
    result is PROCESSED: the new outcome is known here, so it needs no placeholder.
    """
    condition = "attribute_not_exists(jobKey) OR #run < :run"
    names = {"#run": "run"}
    values: dict[str, Any] = {":run": _n(result.run)}
    if result.outcome is Outcome.PROCESSED:
        condition += " OR (#run = :run AND #outcome = :failed)"
        names["#outcome"] = "outcome"
        values[":failed"] = _s(str(Outcome.FAILED))
    return {
        "ConditionExpression": condition,
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": values,
    }


class DynamoResultStore(AwsAdapter):
    """One result per (job, toon), replaced only by a result that supersedes it."""

    service = "dynamodb"

    def __init__(self, names: AwsNames, session: Any = None) -> None:
        super().__init__(session)
        self.names = names

    def put(self, results: Sequence[ToonResult]) -> None:
        """Store results concurrently; a stored result that is not superseded stays."""
        table = self.names.require("results_table")
        run_all(self._put_one(table), list(results))

    def list(self, key: JobKey, limit: int, after: Position | None) -> Page[ToonResult]:
        """The job's results in toon order; `next_position` only when more exist."""
        start = after["index"] if after else -1
        if start >= MAX_INDEX:
            return Page([])
        table = self.names.require("results_table")
        request = {
            "TableName": table,
            "KeyConditionExpression": "jobKey = :k AND #i > :after",
            "ExpressionAttributeNames": {"#i": "index", "#r": "result"},
            "ExpressionAttributeValues": {":k": _s(str(key)), ":after": _n(max(start, -1))},
            "ProjectionExpression": "#r",
            "ConsistentRead": True,
        }

        rows = _query_up_to(self.client, limit + 1, request)
        items = [_result_from_row(row) for row in rows[:limit]]
        position = {"index": items[-1].index} if len(rows) > limit else None
        return Page(items, position)

    def _put_one(self, table: str) -> Callable[[ToonResult], None]:
        def put(result: ToonResult) -> None:
            try:
                with translate(f"table {table}"):
                    self.client.put_item(
                        TableName=table, Item=result_item(result), **supersede_condition(result)
                    )
            except StoreConflict:
                log.debug("stored result kept", extra=_result_keys(result))

        return put


def _result_from_row(row: Mapping[str, Any]) -> ToonResult:
    # Canonical JSON has no raw newline, so the first one separates the two documents.
    record, _, processed = zlib.decompress(_bytes(row["result"])).decode().partition("\n")
    return ToonResult.from_record(json.loads(record), processed or None)


# -- failure notes --------------------------------------------------------------------------


class FailureNotes(AwsAdapter):
    """The last failure of each toon of a run, kept for the dead-letter consumer.

    The worker writes a note each time a toon raises; when the message is dead-lettered,
    the note gives the FAILED result its reason and attempt count.
    """

    service = "dynamodb"

    def __init__(self, names: AwsNames, session: Any = None) -> None:
        super().__init__(session)
        self.names = names

    def record(self, item: WorkItem, reason: str, attempts: int) -> None:
        """Keep `reason` as the toon's latest failure in its run (overwrites older notes)."""
        table = self.names.require("toons_table")
        with translate(f"table {table}"):
            self.client.put_item(
                TableName=table,
                Item={
                    **_note_key(item),
                    "reason": _s(reason[:MAX_REASON_CHARS]),
                    "attempts": _n(attempts),
                },
            )
        log.debug("failure noted", extra=_item_keys(item))

    def get(self, item: WorkItem) -> tuple[str, int] | None:
        """The toon's latest failure in its run as (reason, attempts), or None."""
        table = self.names.require("toons_table")
        with translate(f"table {table}"):
            found = self.client.get_item(
                TableName=table, Key=_note_key(item), ConsistentRead=True
            ).get("Item")
        if found is None:
            return None
        return found["reason"]["S"], _int(found["attempts"])


def _note_key(item: WorkItem) -> Item:
    return {
        "jobKey": _s(str(item.key)),
        "part": _s(f"note#{item.run}#{item.toon.index:06d}"),
    }


# -- log keys -------------------------------------------------------------------------------


def _job_keys(key: JobKey) -> dict[str, str]:
    return {"jobId": key.job_id, "userId": key.owner}


def _result_keys(result: ToonResult) -> dict[str, Any]:
    return {**_job_keys(result.key), "toonId": result.toon_id, "run": result.run}


def _item_keys(item: WorkItem) -> dict[str, Any]:
    return {**_job_keys(item.key), "toonId": item.toon.toon_id, "run": item.run}

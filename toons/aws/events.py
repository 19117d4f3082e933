"""The event publisher on an EventBridge custom bus, and the readers of what it publishes.

Toon events are packed: the events of one (job, run, type) travel together in one entry
whose detail holds at most `DETAIL_BYTES` of JSON. EventBridge bills each 64 KB chunk of
an entry as one event, so packing is what keeps the cost per toon low, and the entry's
`jobKey` is what the completions rule partitions the Kinesis stream by. A status change
is one entry of its own, with the event's fields plus `jobKey` as its detail.
"""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from toons.aws import wiring
from toons.aws.clients import (
    ENV_VARS,
    AwsAdapter,
    DeliveryError,
    MissingResource,
    backoff,
    run_all,
    translate,
)
from toons.model import (
    Completion,
    Event,
    JobKey,
    JobStatusChanged,
    Outcome,
    ToonEvent,
)

log = logging.getLogger(__name__)

# Below EventBridge's 64 KB billing chunk, with room for the envelope it adds.
DETAIL_BYTES = 48 * 1024
CALL_ENTRIES = 10
# PutEvents refuses a request whose entries add up to more than 256 KB.
CALL_BYTES = 256_000
ATTEMPTS = 5
RETRY_BASE_S = 0.05

Entry = dict[str, str]


def _compact(data: Any) -> str:
    return json.dumps(data, separators=(",", ":"))


def _entry(detail_type: str, detail: str, bus_name: str) -> Entry:
    return {
        "Source": wiring.EVENT_SOURCE,
        "DetailType": detail_type,
        "Detail": detail,
        "EventBusName": bus_name,
    }


def _packed_details(key: JobKey, run: int, encoded: list[str]) -> list[str]:
    """Details holding the encoded events of one (job, run, type), each within the cap."""
    head = _compact({"jobKey": str(key), "userId": key.owner, "jobId": key.job_id, "run": run})
    prefix = head[:-1] + ',"events":['
    base = len(prefix.encode()) + 2
    details, current, size = [], [], base
    for text in encoded:
        length = len(text.encode()) + 1
        if current and size + length > DETAIL_BYTES:
            details.append(prefix + ",".join(current) + "]}")
            current, size = [], base
        current.append(text)
        size += length
    if current:
        details.append(prefix + ",".join(current) + "]}")
    return details


def entries_for(events: Sequence[Event], bus_name: str) -> list[Entry]:
    """The PutEvents entries for events: toon events packed, status changes one each."""
    groups: dict[tuple[JobKey, int, str], list[str]] = {}
    singles: list[Entry] = []
    for event in events:
        if isinstance(event, JobStatusChanged):
            detail = _compact({**event.to_dict(), "jobKey": str(event.key)})
            singles.append(_entry(event.type, detail, bus_name))
        else:
            groups.setdefault((event.key, event.run, event.type), []).append(
                _compact(event.to_dict())
            )

    packed = [
        _entry(detail_type, detail, bus_name)
        for (key, run, detail_type), encoded in groups.items()
        for detail in _packed_details(key, run, encoded)
    ]
    return packed + singles


def _entry_bytes(entry: Entry) -> int:
    return sum(len(entry[field].encode()) for field in ("Source", "DetailType", "Detail"))


def calls_for(entries: Sequence[Entry]) -> list[list[Entry]]:
    """Entries split into PutEvents calls (at most ten entries and 256 KB each)."""
    calls: list[list[Entry]] = []
    current: list[Entry] = []
    size = 0
    for entry in entries:
        length = _entry_bytes(entry)
        if current and (len(current) == CALL_ENTRIES or size + length > CALL_BYTES):
            calls.append(current)
            current, size = [], 0
        current.append(entry)
        size += length
    if current:
        calls.append(current)
    return calls


class EventBridgePublisher(AwsAdapter):
    """Publishes events to the custom bus; raises if any entry is still refused."""

    service = "events"

    def __init__(
        self,
        bus_name: str | None,
        session: Any = None,
        attempts: int = ATTEMPTS,
        retry_base_s: float = RETRY_BASE_S,
    ) -> None:
        super().__init__(session)
        self.bus_name = bus_name
        self.attempts = attempts
        self.retry_base_s = retry_base_s

    def publish(self, events: Sequence[Event]) -> None:
        """Publish every event; raise `DeliveryError` if any entry is still refused."""
        if not events:
            return
        if not self.bus_name:
            raise MissingResource(f"{ENV_VARS['bus_name']} is not set: no event bus")
        entries = entries_for(events, self.bus_name)
        run_all(self._put, calls_for(entries))
        log.debug("events published", extra={"count": len(events), "entries": len(entries)})

    def _put(self, entries: list[Entry]) -> None:
        pending = entries
        for attempt in range(1, self.attempts + 1):
            refused = self._put_entries(pending)
            if not refused:
                return
            if attempt == self.attempts:
                codes = sorted({str(answer.get("ErrorCode")) for _, answer in refused})
                raise DeliveryError(
                    f"{len(refused)} event entries refused after {attempt} attempt(s): {codes}"
                )
            log.debug("retrying refused event entries", extra={"count": len(refused)})
            backoff(attempt, self.retry_base_s)
            pending = [entry for entry, _ in refused]

    def _put_entries(self, entries: list[Entry]) -> list[tuple[Entry, dict[str, Any]]]:
        with translate(f"event bus {self.bus_name}"):
            answer = self.client.put_events(Entries=entries)
        if not answer.get("FailedEntryCount"):
            return []
        # Answers line up with the request's entries; the refused ones carry an ErrorCode.
        return [
            (entry, result)
            for entry, result in zip(entries, answer["Entries"], strict=True)
            if result.get("ErrorCode")
        ]


# -- readers, for the consumers -------------------------------------------------------------


def completions_from_detail(detail: Mapping[str, Any]) -> list[Completion]:
    """The completions in a packed toon-event detail ([] for any other detail)."""
    return [
        Completion(
            JobKey(event["userId"], event["jobId"]),
            event["run"],
            event["index"],
            Outcome(event["outcome"]),
        )
        for event in detail.get("events", ())
    ]


def toon_events_from_detail(detail: Mapping[str, Any]) -> list[ToonEvent]:
    """The toon events in a packed detail ([] for any other detail)."""
    return [ToonEvent.from_dict(event) for event in detail.get("events", ())]


def completions_from_event(event: Mapping[str, Any]) -> list[Completion]:
    """The completions in a whole EventBridge event (its `detail` holds them)."""
    if event.get("detail-type") not in wiring.TOON_EVENT_TYPES:
        return []
    return completions_from_detail(event.get("detail") or {})


def completions_from_kinesis_record(record: Mapping[str, Any]) -> list[Completion]:
    """The completions in a Kinesis record whose data is an EventBridge event.

    Takes a record as Lambda delivers it (`kinesis.data`, base64 text) or as the
    Kinesis client returns it (`Data`, bytes).
    """
    raw = base64.b64decode(record["kinesis"]["data"]) if "kinesis" in record else record["Data"]
    return completions_from_event(json.loads(raw))

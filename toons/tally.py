"""Exact counting: the pure rules the aggregator applies to a job's bitmaps.

A job keeps one bit per toon index for each outcome. A batch of completion events ORs
its indexes in; a bit that is already set adds nothing, so duplicates, redeliveries and
replays cannot change a count. PROCESSED wins over FAILED for the same toon (a redriven
toon that now succeeds), and a toon never counts in both.
"""

from __future__ import annotations

from collections.abc import Iterable

from toons.model import Completion, Job, JobStatus, Outcome


def mask(indexes: Iterable[int], total: int) -> int:
    """An integer with the bits of `indexes` set (indexes outside the job are dropped)."""
    buf = bytearray((total + 7) // 8)
    for index in indexes:
        if 0 <= index < total:
            buf[index >> 3] |= 1 << (index & 7)
    return int.from_bytes(buf, "little")


def to_bytes(bits: int, total: int) -> bytes:
    """The bitmap as little-endian bytes, one bit per toon."""
    return bits.to_bytes((total + 7) // 8, "little")


def from_bytes(raw: bytes | None) -> int:
    """Read back a bitmap written by `to_bytes`."""
    return int.from_bytes(raw or b"", "little")


def status_for(job: Job, processed_bits: int, failed_bits: int) -> JobStatus:
    """The status a job's bitmaps imply.

    Terminal when every toon has an outcome: Completed when none failed, else
    CompletedWithErrors. A job still Pending (its fan-out not confirmed) stays Pending
    until it ends, so an unfinished fan-out is never mistaken for a running job.
    """
    done = processed_bits.bit_count() + failed_bits.bit_count()
    if done >= job.total:
        return JobStatus.COMPLETED if not failed_bits else JobStatus.COMPLETED_WITH_ERRORS
    return JobStatus.PENDING if job.status is JobStatus.PENDING else JobStatus.PROCESSING


def apply(job: Job, completions: Iterable[Completion], now: str) -> Job | None:
    """The job after counting `completions`, or None when they add nothing new.

    Completions of other jobs or runs are ignored; None tells the caller to write nothing.
    """
    mine = [c for c in completions if c.key == job.key and c.run == job.run]
    processed = job.processed_bits | mask(
        (e.index for e in mine if e.outcome is Outcome.PROCESSED), job.total
    )
    failed = (
        job.failed_bits | mask((e.index for e in mine if e.outcome is Outcome.FAILED), job.total)
    ) & ~processed

    if processed == job.processed_bits and failed == job.failed_bits:
        return None
    status = status_for(job, processed, failed)
    return job.bump(processed_bits=processed, failed_bits=failed, status=status, updated_at=now)

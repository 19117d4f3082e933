"""Recovery on a deployed stack: replay from the EventBridge archive, redrive, reprocess.

The resources are found from the stack's outputs (`pulumi stack output --json`), or
from the same environment variables the Lambda functions read. The commands run with
the operator's AWS credentials and talk to the stores directly.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from toons.aws import open_ports, wiring
from toons.aws.clients import AwsNames, clients_for
from toons.aws.sqs import Parking
from toons.errors import InvalidInput
from toons.model import Job, JobKey, WorkItem
from toons.service import ToonService

# Events of a job can reach the archive a little before the job's recorded creation.
REPLAY_MARGIN = timedelta(minutes=5)
OUTPUTS = {
    "jobs_table": "jobsTable",
    "toons_table": "toonsTable",
    "results_table": "resultsTable",
    "job_list_table": "jobListTable",
    "work_queue_url": "workQueueUrl",
    "parked_queue_url": "parkedQueueUrl",
    "dead_letter_queue_url": "deadLetterQueueUrl",
    "stream_failures_queue_url": "streamFailuresQueueUrl",
    "completions_stream": "completionsStream",
    "bus_name": "busName",
}


def _parse(moment: str) -> datetime:
    return datetime.fromisoformat(moment.replace("Z", "+00:00"))


class StackOperations:
    """Recovery commands against one stack's resources."""

    def __init__(self, names: AwsNames, archive_name: str, session: Any = None) -> None:
        self.names = names
        self.archive_name = archive_name
        self.session = session
        self.service = ToonService(open_ports(names, session))
        self._clients = clients_for(session)

    @classmethod
    def for_stack(cls, stack: str) -> StackOperations:
        """The resources of a Pulumi stack, from `pulumi stack output --json`."""
        try:
            raw = subprocess.run(
                ["pulumi", "stack", "output", "--json", "--stack", stack],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
        except (OSError, subprocess.CalledProcessError) as exc:
            raise InvalidInput(
                "STACK_UNREADABLE", f"could not read the outputs of stack {stack!r}: {exc}"
            ) from None
        outputs = json.loads(raw)
        names = AwsNames(**{field: outputs.get(key) for field, key in OUTPUTS.items()})
        return cls(names, outputs["archiveName"])

    @classmethod
    def from_env(cls, session: Any = None) -> StackOperations:
        """The resources named by the functions' environment variables."""
        return cls(AwsNames.from_env(), os.environ["TOONS_ARCHIVE_NAME"], session)

    def job(self, key: JobKey) -> Job | None:
        """A job as stored now."""
        return self.service.ports.jobs.get(key)

    def replay(
        self, key: JobKey | None = None, since: str | None = None, until: str | None = None
    ) -> tuple[str, set[JobKey]]:
        """Replay the archive's events of a time window into the completions rule.

        For a job, the window runs from just before its creation until now. EventBridge
        replays by time and rule only, so other jobs' events of the window come along;
        counting them again changes nothing.
        """
        if key is not None:
            job = self.service.job(key.owner, key.job_id)  # someone else's: not found
            since = (_parse(job.created_at) - REPLAY_MARGIN).isoformat()
        start = _parse(since) if since else datetime.now(UTC) - timedelta(days=1)
        end = _parse(until) if until else datetime.now(UTC)
        name = self._start_replay(start, end)
        state = self._await_replay(name)
        return f"replay {name} {state} ({start.isoformat()} to {end.isoformat()})", (
            {key} if key else set()
        )

    def _start_replay(self, start: datetime, end: datetime) -> str:
        events = self._clients.client("events")
        archive = events.describe_archive(ArchiveName=self.archive_name)
        bus_arn = archive["EventSourceArn"]
        name = f"toons-replay-{uuid.uuid4().hex[:12]}"
        events.start_replay(
            ReplayName=name,
            EventSourceArn=archive["ArchiveArn"],
            EventStartTime=start,
            EventEndTime=end,
            Destination={"Arn": bus_arn, "FilterArns": self._completion_rules(bus_arn)},
        )
        return name

    def _completion_rules(self, bus_arn: str) -> list[str]:
        """The ARNs of the bus's rules whose pattern is the declared completions pattern."""
        events = self._clients.client("events")
        pattern = next(r.pattern for r in wiring.RULES if r.name == "completions")
        rules = events.list_rules(EventBusName=bus_arn.rpartition("/")[2])["Rules"]
        return [
            rule["Arn"] for rule in rules if json.loads(rule.get("EventPattern", "{}")) == pattern
        ]

    def _await_replay(self, name: str, timeout_s: float = 3600) -> str:
        events = self._clients.client("events")
        deadline = time.monotonic() + timeout_s
        while True:
            state = events.describe_replay(ReplayName=name)["State"]
            if state in ("COMPLETED", "FAILED", "CANCELLED") or time.monotonic() > deadline:
                return state
            time.sleep(2)

    def redrive(self) -> set[JobKey]:
        """Move every parked toon back to the work queue; returns their jobs."""
        bodies = Parking(self.names, self.session).redrive()
        return {WorkItem.from_dict(json.loads(body)).key for body in bodies}

    def reprocess(self, key: JobKey) -> Job:
        """Run a finished job again as a new run (see `ToonService.reprocess`)."""
        return self.service.reprocess(key.owner, key.job_id)

    def settled(self, job: Job) -> bool:
        """Terminal, with the work and dead-letter queues drained."""
        return job.status.is_terminal and self._queues_empty()

    def _queues_empty(self) -> bool:
        sqs = self._clients.client("sqs")
        counts = ("ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible")
        for url in (self.names.work_queue_url, self.names.dead_letter_queue_url):
            attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=list(counts))
            if any(int(attributes["Attributes"][name]) for name in counts):
                return False
        return True

    def engine_running(self) -> bool:
        """A stack always has its functions listening."""
        return True

"""The asynchronous flow: queues, the event bus and its archive, rules, stream and topics.

Toons fan out through the work queue; spent messages move to its dead-letter queue.
Completion events go on the bus; one rule forwards them to the Kinesis stream the
aggregator reads (partitioned by job), another forwards job status changes to an SNS
topic people subscribe to. The archive keeps every event on the bus for replays.
"""

from __future__ import annotations

import json

import pulumi
import pulumi_aws as aws

from infra import policies
from infra.catalog import Handle, Key
from infra.settings import Settings
from toons.aws import wiring

DEFAULT_RETENTION_S = 4 * 24 * 3600
HOLDING_RETENTION_S = 14 * 24 * 3600  # SQS's maximum: what these queues hold needs a person


class Pipeline(pulumi.ComponentResource):
    """Every queue, stream, rule and topic wiring declares, on one custom bus."""

    queues: dict[str, aws.sqs.Queue]
    streams: dict[str, aws.kinesis.Stream]
    topics: dict[str, aws.sns.Topic]
    rules: dict[str, aws.cloudwatch.EventRule]
    bus: aws.cloudwatch.EventBus
    archive: aws.cloudwatch.EventArchive

    def __init__(
        self, name: str, settings: Settings, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("toons:infra:Pipeline", name, None, opts)
        self._settings = settings
        self._child = pulumi.ResourceOptions(parent=self)

        self.queues = self._queues()
        self.streams = {stream.name: self._stream(stream) for stream in wiring.STREAMS}
        self.bus = aws.cloudwatch.EventBus(
            "event-bus", name=settings.physical("bus"), opts=self._child
        )
        self.archive = aws.cloudwatch.EventArchive(
            "event-archive",
            name=settings.physical("archive"),
            description="Every event on the bus, for replays",
            event_source_arn=self.bus.arn,
            retention_days=settings.archive_retention_days,
            opts=self._child,
        )
        self.topics = {
            rule.target: self._topic(rule.target)
            for rule in wiring.RULES
            if rule.target_kind == "topic"
        }
        self.rules = {rule.name: self._rule(rule) for rule in wiring.RULES}
        self._allow_rules_to_publish()

        self.register_outputs(
            {
                "busName": self.bus.name,
                "archiveName": self.archive.name,
                "queueUrls": {q: queue.url for q, queue in self.queues.items()},
            }
        )

    @property
    def status_topic(self) -> aws.sns.Topic:
        """The topic that receives job status changes."""
        rule = next(r for r in wiring.RULES if wiring.STATUS_EVENT_TYPE in r.pattern["detail-type"])
        return self.topics[rule.target]

    def handles(self) -> dict[Key, Handle]:
        """Queues (by URL), streams and the bus (by name), each with its ARN."""
        handles = {("queue", n): Handle(q.arn, q.url) for n, q in self.queues.items()}
        handles |= {("stream", n): Handle(s.arn, s.name) for n, s in self.streams.items()}
        handles[("bus", wiring.BUS)] = Handle(self.bus.arn, self.bus.name)
        return handles

    def _queues(self) -> dict[str, aws.sqs.Queue]:
        # Dead-letter queues first: their sources' redrive policies name their ARNs.
        ordered = sorted(wiring.QUEUES, key=lambda q: q.dead_letter is not None)
        queues: dict[str, aws.sqs.Queue] = {}
        for declared in ordered:
            queues[declared.name] = self._queue(declared, queues)
        return {q.name: queues[q.name] for q in wiring.QUEUES}

    def _queue(self, declared: wiring.Queue, created: dict[str, aws.sqs.Queue]) -> aws.sqs.Queue:
        redrive = None
        if declared.dead_letter:
            redrive = pulumi.Output.json_dumps(
                {
                    "deadLetterTargetArn": created[declared.dead_letter].arn,
                    "maxReceiveCount": self._settings.max_receives,
                }
            )
        visibility = (
            wiring.visibility_timeout_s(declared.name, self._settings.timeouts)
            if declared.name in self._settings.consumed_queues
            else None
        )
        return aws.sqs.Queue(
            f"{declared.name}-queue",
            name=self._settings.physical(declared.name),
            visibility_timeout_seconds=visibility,
            message_retention_seconds=(
                DEFAULT_RETENTION_S if declared.dead_letter else HOLDING_RETENTION_S
            ),
            redrive_policy=redrive,
            sqs_managed_sse_enabled=True,
            opts=self._child,
        )

    def _stream(self, declared: wiring.Stream) -> aws.kinesis.Stream:
        provisioned = self._settings.kinesis_mode == "PROVISIONED"
        return aws.kinesis.Stream(
            f"{declared.name}-stream",
            name=self._settings.physical(declared.name),
            stream_mode_details=aws.kinesis.StreamStreamModeDetailsArgs(
                stream_mode=self._settings.kinesis_mode
            ),
            shard_count=self._settings.kinesis_shards if provisioned else None,
            retention_period=24,
            # AWS's own key for Kinesis: encryption at rest without extra IAM grants.
            encryption_type="KMS",
            kms_key_id="alias/aws/kinesis",
            opts=self._child,
        )

    def _topic(self, logical: str) -> aws.sns.Topic:
        return aws.sns.Topic(
            f"{logical}-topic", name=self._settings.physical(logical), opts=self._child
        )

    def _rule(self, declared: wiring.Rule) -> aws.cloudwatch.EventRule:
        rule = aws.cloudwatch.EventRule(
            f"{declared.name}-rule",
            name=self._settings.physical(declared.name),
            event_bus_name=self.bus.name,
            event_pattern=json.dumps(declared.pattern),
            opts=self._child,
        )
        if declared.target_kind == "stream":
            self._stream_target(declared, rule)
        elif declared.target_kind == "topic":
            aws.cloudwatch.EventTarget(
                f"{declared.name}-target",
                rule=rule.name,
                event_bus_name=self.bus.name,
                arn=self.topics[declared.target].arn,
                opts=self._child,
            )
        else:
            raise ValueError(f"rule {declared.name}: unknown target kind {declared.target_kind}")
        return rule

    def _stream_target(self, declared: wiring.Rule, rule: aws.cloudwatch.EventRule) -> None:
        stream = self.streams[declared.target]
        role = aws.iam.Role(
            f"{declared.name}-target-role",
            name=self._settings.physical(f"{declared.name}-events"),
            assume_role_policy=policies.assume_role("events.amazonaws.com"),
            opts=self._child,
        )
        aws.iam.RolePolicy(
            f"{declared.name}-target-policy",
            role=role.id,
            policy=policies.document(
                [
                    policies.statement(
                        f"put-{declared.target}",
                        ("kinesis:PutRecord", "kinesis:PutRecords"),
                        [stream.arn],
                    )
                ]
            ),
            opts=self._child,
        )
        aws.cloudwatch.EventTarget(
            f"{declared.name}-target",
            rule=rule.name,
            event_bus_name=self.bus.name,
            arn=stream.arn,
            role_arn=role.arn,
            kinesis_target=aws.cloudwatch.EventTargetKinesisTargetArgs(
                partition_key_path=declared.partition_key_path
            ),
            opts=self._child,
        )

    def _allow_rules_to_publish(self) -> None:
        """Each topic accepts messages from EventBridge, and only for the rules aimed at it."""
        for logical, topic in self.topics.items():
            statements = [
                policies.statement(
                    f"from-{rule.name}",
                    ("sns:Publish",),
                    [topic.arn],
                    principal={"Service": "events.amazonaws.com"},
                    condition={"ArnEquals": {"aws:SourceArn": self.rules[rule.name].arn}},
                )
                for rule in wiring.RULES
                if rule.target_kind == "topic" and rule.target == logical
            ]
            aws.sns.TopicPolicy(
                f"{logical}-topic-policy",
                arn=topic.arn,
                policy=policies.document(statements),
                opts=self._child,
            )

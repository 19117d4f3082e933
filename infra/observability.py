"""Alarms, the topic they notify, and one dashboard of the main metrics.

Alarms cover what needs a person: messages waiting in a dead-letter or holding queue,
function errors and throttles, stream consumers falling behind, jobs stuck in
Processing (the application's `JobsStuck` metric) and API 5xx answers. docs/operations.md
says what to do about each one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from infra.api import Api
from infra.functions import METRICS_NAMESPACE, SERVICE, ToonFunction
from infra.pipeline import Pipeline
from infra.settings import Settings
from toons.aws import wiring

APP_DIMENSIONS = {"service": SERVICE}
APP_DIMENSIONS_FLAT = [part for pair in APP_DIMENSIONS.items() for part in pair]
STREAM_SOURCES = (wiring.KinesisSource, wiring.TableStreamSource)


@dataclass(frozen=True)
class ObservabilityArgs:
    """What is watched."""

    settings: Settings
    functions: Mapping[str, ToonFunction]
    pipeline: Pipeline
    api: Api


@dataclass(frozen=True)
class _Watch:
    """One alarm: what it means, its metric, and when it fires."""

    description: str
    namespace: str
    name: str
    dimensions: Mapping[str, pulumi.Input[str]]
    statistic: str
    threshold: float
    periods: int = 1


class Observability(pulumi.ComponentResource):
    """The alarm topic, every alarm, the dashboard."""

    alarm_topic: aws.sns.Topic
    alarms: dict[str, aws.cloudwatch.MetricAlarm]
    dashboard: aws.cloudwatch.Dashboard

    def __init__(
        self, name: str, args: ObservabilityArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("toons:infra:Observability", name, None, opts)
        self._child = pulumi.ResourceOptions(parent=self)
        self._settings = args.settings

        self.alarm_topic = aws.sns.Topic(
            "alarm-topic", name=args.settings.physical("alarms"), opts=self._child
        )
        if args.settings.alarms.email:
            aws.sns.TopicSubscription(
                "alarm-email",
                topic=self.alarm_topic.arn,
                protocol="email",
                endpoint=args.settings.alarms.email,
                opts=self._child,
            )
        self.alarms = {logical: self._alarm(logical, w) for logical, w in _watched(args).items()}
        self.dashboard = aws.cloudwatch.Dashboard(
            "dashboard",
            dashboard_name=args.settings.physical("overview"),
            dashboard_body=_dashboard(args),
            opts=self._child,
        )
        self.register_outputs({"alarmTopicArn": self.alarm_topic.arn})

    def _alarm(self, logical: str, watch: _Watch) -> aws.cloudwatch.MetricAlarm:
        topic = [self.alarm_topic.arn]
        return aws.cloudwatch.MetricAlarm(
            f"{logical}-alarm",
            name=self._settings.physical(logical),
            alarm_description=watch.description,
            namespace=watch.namespace,
            metric_name=watch.name,
            dimensions=dict(watch.dimensions),
            statistic=watch.statistic,
            period=self._settings.alarms.period_s,
            evaluation_periods=watch.periods,
            threshold=watch.threshold,
            comparison_operator="GreaterThanThreshold",
            treat_missing_data="notBreaching",
            alarm_actions=topic,
            ok_actions=topic,
            opts=self._child,
        )


def _watched(args: ObservabilityArgs) -> dict[str, _Watch]:
    """Every alarm, by logical name."""
    limits = args.settings.alarms
    watched: dict[str, _Watch] = {}

    for declared in wiring.QUEUES:
        if declared.dead_letter:
            continue  # a source queue: its spent messages show up in its dead-letter queue
        # A drained queue may hold messages for a moment; an undrained one needs a person now.
        consumed = declared.name in args.settings.consumed_queues
        watched[f"{declared.name}-not-empty"] = _Watch(
            f"Messages wait in the {declared.name} queue",
            "AWS/SQS",
            "ApproximateNumberOfMessagesVisible",
            {"QueueName": args.pipeline.queues[declared.name].name},
            "Maximum",
            0,
            limits.dead_letter_periods if consumed else 1,
        )

    for declared in wiring.FUNCTIONS:
        function = {"FunctionName": args.functions[declared.name].function.name}
        watched[f"{declared.name}-errors"] = _Watch(
            f"{declared.name} invocations failed",
            "AWS/Lambda",
            "Errors",
            function,
            "Sum",
            limits.error_threshold,
        )
        watched[f"{declared.name}-throttles"] = _Watch(
            f"{declared.name} invocations were throttled",
            "AWS/Lambda",
            "Throttles",
            function,
            "Sum",
            limits.throttle_threshold,
        )
        if isinstance(args.settings.sources.get(declared.name), STREAM_SOURCES):
            watched[f"{declared.name}-iterator-age"] = _Watch(
                f"{declared.name} is falling behind its stream",
                "AWS/Lambda",
                "IteratorAge",
                function,
                "Maximum",
                limits.iterator_age_ms,
            )

    for declared in wiring.STREAMS:
        watched[f"{declared.name}-stream-iterator-age"] = _Watch(
            f"Records wait unread in the {declared.name} stream",
            "AWS/Kinesis",
            "GetRecords.IteratorAgeMilliseconds",
            {"StreamName": args.pipeline.streams[declared.name].name},
            "Maximum",
            limits.iterator_age_ms,
        )

    watched["jobs-stuck"] = _Watch(
        "Jobs stay in Processing with no toon of theirs in flight",
        METRICS_NAMESPACE,
        "JobsStuck",
        APP_DIMENSIONS,
        "Maximum",
        limits.jobs_stuck_threshold,
    )
    watched["api-5xx"] = _Watch(
        "The API answered with server errors",
        "AWS/ApiGateway",
        "5XXError",
        {"ApiName": args.api.rest_api.name, "Stage": args.api.stage.stage_name},
        "Sum",
        limits.error_threshold,
    )
    return watched


def _dashboard(args: ObservabilityArgs) -> pulumi.Output[str]:
    """The dashboard body: two columns of time series, as CloudWatch's JSON."""
    functions = [f.function.name for f in args.functions.values()]
    consumers = [
        args.functions[name].function.name
        for name, source in args.settings.sources.items()
        if isinstance(source, STREAM_SOURCES)
    ]
    queues = [q.name for q in args.pipeline.queues.values()]
    streams = [s.name for s in args.pipeline.streams.values()]
    api = ["ApiName", args.api.rest_api.name, "Stage", args.api.stage.stage_name]

    panels = [
        (
            "Toons processed and failed",
            "Sum",
            _app("ToonsProcessed", "ToonsFailed", "JobsCompleted"),
        ),
        ("Processing time and job duration, p99", "p99", _app("ProcessingTime", "JobDuration")),
        ("Jobs stuck in Processing", "Maximum", _app("JobsStuck")),
        (
            "API requests and errors",
            "Sum",
            [["AWS/ApiGateway", m, *api] for m in ("Count", "4XXError", "5XXError")],
        ),
        ("Invocations", "Sum", _each("AWS/Lambda", "FunctionName", functions, "Invocations")),
        (
            "Errors and throttles",
            "Sum",
            _each("AWS/Lambda", "FunctionName", functions, "Errors", "Throttles"),
        ),
        (
            "Messages waiting",
            "Maximum",
            _each("AWS/SQS", "QueueName", queues, "ApproximateNumberOfMessagesVisible"),
        ),
        (
            "Stream consumers behind (ms)",
            "Maximum",
            _each("AWS/Kinesis", "StreamName", streams, "GetRecords.IteratorAgeMilliseconds")
            + _each("AWS/Lambda", "FunctionName", consumers, "IteratorAge"),
        ),
    ]
    region = aws.get_region_output().region
    widgets = [
        _widget(index, title, stat, metrics, region, args.settings.alarms.period_s)
        for index, (title, stat, metrics) in enumerate(panels)
    ]
    return pulumi.Output.json_dumps({"widgets": widgets})


def _app(*metrics: str) -> list[list[Any]]:
    """The application's own metrics (Powertools, namespace Toons, dimension service)."""
    return [[METRICS_NAMESPACE, metric, *APP_DIMENSIONS_FLAT] for metric in metrics]


def _each(
    namespace: str, dimension: str, values: Sequence[pulumi.Input[str]], *metrics: str
) -> list[list[Any]]:
    """Each metric for each value of one dimension."""
    return [[namespace, metric, dimension, value] for value in values for metric in metrics]


def _widget(
    index: int,
    title: str,
    stat: str,
    metrics: Sequence[Sequence[Any]],
    region: pulumi.Output[str],
    period: int,
) -> dict[str, Any]:
    return {
        "type": "metric",
        "x": 12 * (index % 2),
        "y": 6 * (index // 2),
        "width": 12,
        "height": 6,
        "properties": {
            "title": title,
            "view": "timeSeries",
            "region": region,
            "stat": stat,
            "period": period,
            "metrics": [list(m) for m in metrics],
        },
    }

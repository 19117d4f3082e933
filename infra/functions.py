"""One Lambda function per wiring entry, each with its own role, log group and trigger.

A function's role allows exactly the actions wiring lists in its `access`, on the ARNs of
those resources, plus writing to its own log group and sending traces to X-Ray. Its
environment is `wiring.environment(fn)` with the physical names filled in, plus the
Powertools settings that put its logs and metrics where docs/operations.md says.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
import pulumi_aws as aws

from infra import policies
from infra.catalog import Catalog
from infra.settings import Settings
from toons.aws import wiring

RUNTIME = "python3.12"
ARCHITECTURE = "arm64"
METRICS_NAMESPACE = "Toons"
SERVICE = "toons"
MAX_RECEIVES_ENV = "TOONS_MAX_RECEIVES"


@dataclass(frozen=True)
class FunctionsArgs:
    """What the functions are built from."""

    settings: Settings
    catalog: Catalog
    code: pulumi.Archive


class Functions(pulumi.ComponentResource):
    """Every function wiring declares, as a `ToonFunction` child by wiring name."""

    functions: dict[str, ToonFunction]

    def __init__(
        self, name: str, args: FunctionsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("toons:infra:Functions", name, None, opts)
        self.functions = {
            fn.name: ToonFunction(fn.name, fn, args, pulumi.ResourceOptions(parent=self))
            for fn in wiring.FUNCTIONS
        }
        self.register_outputs(
            {fn: function.function.name for fn, function in self.functions.items()}
        )


class ToonFunction(pulumi.ComponentResource):
    """One function: role and policy, log group, the function, its event source mapping."""

    function: aws.lambda_.Function
    log_group: aws.cloudwatch.LogGroup
    role: aws.iam.Role
    event_source: aws.lambda_.EventSourceMapping | None
    schedule: aws.cloudwatch.EventRule | None

    def __init__(
        self,
        name: str,
        declared: wiring.Function,
        args: FunctionsArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("toons:infra:ToonFunction", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        settings, catalog = args.settings, args.catalog
        physical = settings.physical(declared.name)
        sizing = settings.functions[declared.name]

        self.log_group = aws.cloudwatch.LogGroup(
            f"{name}-logs",
            name=f"/aws/lambda/{physical}",
            retention_in_days=settings.log_retention_days,
            opts=child,
        )
        self.role = aws.iam.Role(
            f"{name}-role",
            name=physical,
            assume_role_policy=policies.assume_role("lambda.amazonaws.com"),
            opts=child,
        )
        policy = aws.iam.RolePolicy(
            f"{name}-policy",
            role=self.role.id,
            policy=policies.document(self._statements(declared, catalog)),
            opts=child,
        )

        self.function = aws.lambda_.Function(
            f"{name}-function",
            name=physical,
            role=self.role.arn,
            runtime=RUNTIME,
            architectures=[ARCHITECTURE],
            handler=declared.handler,
            code=args.code,
            memory_size=sizing.memory_mb,
            timeout=sizing.timeout_s,
            environment=aws.lambda_.FunctionEnvironmentArgs(
                variables={**catalog.environment(declared), **_deployment_env(declared, settings)}
            ),
            tracing_config=aws.lambda_.FunctionTracingConfigArgs(mode="Active"),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.log_group, policy]),
        )

        # The mapping starts polling at once: the role must already allow reading the source.
        source = settings.sources.get(declared.name)
        self.schedule = None
        self.event_source = None
        if isinstance(source, wiring.ScheduleSource):
            self.schedule = _schedule(name, physical, self.function, source, child)
        elif source:
            self.event_source = _event_source(
                name,
                self.function,
                source,
                catalog,
                pulumi.ResourceOptions(parent=self, depends_on=[policy]),
            )
        self.register_outputs({"name": self.function.name, "arn": self.function.arn})

    def _statements(self, declared: wiring.Function, catalog: Catalog) -> list[dict[str, Any]]:
        granted = [
            policies.statement(
                f"{access.kind}-{access.name}",
                access.actions,
                [catalog[(access.kind, access.name)].arn],
            )
            for access in declared.access
        ]
        return [policies.log_write(self.log_group.arn), policies.xray_write(), *granted]


def code_archive(path: Path) -> pulumi.Archive:
    """The built zip every function runs (see `infra.package`).

    The program does not build it: `python -m infra.package build/lambda.zip` does, before
    `pulumi preview` or `pulumi up`. A missing file is only a warning here, so the
    program also runs under unit-test mocks; the engine refuses to deploy without it.
    """
    if not path.is_file():
        pulumi.log.warn(f"{path} is missing: run `python -m infra.package {path}` first")
    return pulumi.FileArchive(str(path))


def _deployment_env(declared: wiring.Function, settings: Settings) -> dict[str, str]:
    """What the deployment adds to wiring's environment: Powertools, and max receives.

    The consumer of a dead-letter queue reports how many attempts a toon had; it reads
    the stack's `maxReceives` from TOONS_MAX_RECEIVES (wiring has no variable for it).
    """
    env = {
        "POWERTOOLS_SERVICE_NAME": SERVICE,
        "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
        "POWERTOOLS_LOG_LEVEL": settings.log_level,
    }
    dead_letters = {q.dead_letter for q in wiring.QUEUES if q.dead_letter}
    source = settings.sources.get(declared.name)
    if isinstance(source, wiring.SqsSource) and source.queue in dead_letters:
        env[MAX_RECEIVES_ENV] = str(settings.max_receives)
    return env


def _schedule(
    name: str,
    physical: str,
    function: aws.lambda_.Function,
    source: wiring.ScheduleSource,
    opts: pulumi.ResourceOptions,
) -> aws.cloudwatch.EventRule:
    """A rule on the default bus that invokes the function on wiring's schedule."""
    rule = aws.cloudwatch.EventRule(
        f"{name}-schedule", name=physical, schedule_expression=source.expression, opts=opts
    )
    aws.cloudwatch.EventTarget(
        f"{name}-schedule-target", rule=rule.name, arn=function.arn, opts=opts
    )
    aws.lambda_.Permission(
        f"{name}-schedule-permission",
        action="lambda:InvokeFunction",
        function=function.name,
        principal="events.amazonaws.com",
        source_arn=rule.arn,
        opts=opts,
    )
    return rule


def _event_source(
    name: str,
    function: aws.lambda_.Function,
    source: wiring.Source,
    catalog: Catalog,
    opts: pulumi.ResourceOptions,
) -> aws.lambda_.EventSourceMapping:
    """The mapping wiring declares, with the stack's overrides already in `source`."""
    if isinstance(source, wiring.SqsSource):
        return aws.lambda_.EventSourceMapping(
            f"{name}-source",
            function_name=function.arn,
            event_source_arn=catalog[("queue", source.queue)].arn,
            batch_size=source.batch_size,
            maximum_batching_window_in_seconds=source.window_s,
            scaling_config=aws.lambda_.EventSourceMappingScalingConfigArgs(
                maximum_concurrency=source.max_concurrency
            ),
            function_response_types=(
                ["ReportBatchItemFailures"] if source.report_batch_item_failures else []
            ),
            opts=opts,
        )

    origin = (
        ("stream", source.stream)
        if isinstance(source, wiring.KinesisSource)
        else ("table-stream", source.table)
    )
    return aws.lambda_.EventSourceMapping(
        f"{name}-source",
        function_name=function.arn,
        event_source_arn=catalog[origin].arn,
        starting_position=source.starting_position,
        batch_size=source.batch_size,
        maximum_batching_window_in_seconds=source.window_s,
        bisect_batch_on_function_error=source.bisect_on_error,
        maximum_retry_attempts=source.max_retries,
        destination_config=aws.lambda_.EventSourceMappingDestinationConfigArgs(
            on_failure=aws.lambda_.EventSourceMappingDestinationConfigOnFailureArgs(
                destination_arn=catalog[("queue", source.on_failure)].arn
            )
        ),
        opts=opts,
    )

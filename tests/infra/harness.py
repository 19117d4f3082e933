"""Run the Pulumi program under Pulumi's mocks and keep what it registered.

No CLI, no cloud: `pulumi.runtime.set_mocks` stands in for the engine, the stack's
`Pulumi.<stack>.yaml` becomes the mocked config, and every resource's type, name, URN
(which names its parents' types) and inputs are recorded for the tests to read.
"""

from __future__ import annotations

import json
import logging
import runpy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import yaml
from pulumi.runtime import rpc
from pulumi.runtime import settings as runtime_settings
from pulumi.runtime.mocks import MockMonitor
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from infra.settings import Settings

REPO = Path(__file__).resolve().parents[2]
PROJECT = "toons"
STACKS = ("dev", "staging", "prod")
ACCOUNT = "123456789012"
REGION = "eu-west-1"
JWT_SECRET = "test-jwt-secret"


@dataclass
class Resource:
    """One registered resource, as the mocked engine saw it."""

    type: str
    name: str
    inputs: dict[str, Any]
    custom: bool
    urn: str = ""

    @property
    def parent_types(self) -> list[str]:
        """The types of its ancestors, outermost (the stack) first."""
        qualified = self.urn.split("::")[2]
        return qualified.split("$")[:-1]

    def json(self, key: str) -> Any:
        """An input that holds a JSON document, parsed."""
        return json.loads(self.inputs[key])


@dataclass
class Deployment:
    """Everything one run of the program registered, and its stack outputs."""

    stack: str
    config: dict[str, str]
    settings: Settings | None = None
    resources: list[Resource] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def of_type(self, token: str) -> list[Resource]:
        """Resources of one type, e.g. `aws:sqs/queue:Queue`."""
        return [r for r in self.resources if r.type == token]

    def setting(self, key: str, default: Any) -> Any:
        """A `toons:` value from the stack file (parsed), or `default` when it is unset."""
        raw = self.config.get(f"{PROJECT}:{key}")
        return default if raw is None else yaml.safe_load(raw)

    def one(self, token: str, name: str) -> Resource:
        """The resource of that type and logical name."""
        found = [r for r in self.of_type(token) if r.name == name]
        assert len(found) == 1, f"{len(found)} resources {token} named {name}"
        return found[0]

    def by_input(self, token: str, key: str, value: Any) -> Resource:
        """The resource of that type whose input `key` equals `value`."""
        found = [r for r in self.of_type(token) if r.inputs.get(key) == value]
        assert len(found) == 1, f"{len(found)} resources {token} with {key}={value!r}"
        return found[0]


def secret(value: Any) -> dict[str, Any]:
    """How a secret input reaches the mocks: the value wrapped with the secret signature."""
    return {rpc._special_sig_key: rpc._special_secret_sig, "value": value}


def stack_config(stack: str) -> dict[str, str]:
    """`Pulumi.<stack>.yaml` as the engine hands it to a program: every value a string."""
    document = yaml.safe_load((REPO / f"Pulumi.{stack}.yaml").read_text()) or {}
    config = {}
    for key, value in (document.get("config") or {}).items():
        if isinstance(value, dict) and set(value) == {"secure"}:
            continue  # an encrypted value: the test's own secret stands in below
        config[key] = value if isinstance(value, str) else json.dumps(value)
    config[f"{PROJECT}:jwtSecret"] = JWT_SECRET
    return config


class RecordingMocks(pulumi.runtime.Mocks):
    """Answers like AWS would, with predictable ids and ARNs, and records every resource."""

    def __init__(self, deployment: Deployment) -> None:
        self.deployment = deployment

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict]:
        """Record the resource; return an id and the attributes AWS would compute."""
        self.deployment.resources.append(
            Resource(args.typ, args.name, dict(args.inputs), bool(args.custom))
        )
        physical = args.inputs.get("name") or args.name
        return f"{physical}-id", {**args.inputs, **_computed(args.typ, physical, args.inputs)}

    def call(self, args: pulumi.runtime.MockCallArgs) -> dict:
        """The account, region and partition data sources."""
        return {
            "aws:index/getCallerIdentity:getCallerIdentity": {
                "accountId": ACCOUNT,
                "arn": f"arn:aws:iam::{ACCOUNT}:user/test",
                "userId": "test",
                "id": ACCOUNT,
            },
            "aws:index/getRegion:getRegion": {"region": REGION, "name": REGION, "id": REGION},
            "aws:index/getPartition:getPartition": {
                "partition": "aws",
                "dnsSuffix": "amazonaws.com",
                "reverseDnsPrefix": "com.amazonaws",
                "id": "aws",
            },
        }.get(args.token, {})


def _computed(token: str, physical: str, inputs: dict[str, Any]) -> dict[str, Any]:
    service = token.split(":")[1].split("/")[0]
    arn = f"arn:aws:{service}:{REGION}:{ACCOUNT}:{physical}"
    computed: dict[str, Any] = {"arn": arn}
    if token == "aws:sqs/queue:Queue":
        computed["arn"] = f"arn:aws:sqs:{REGION}:{ACCOUNT}:{physical}"
        computed["url"] = f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{physical}"
    elif token == "aws:dynamodb/table:Table":
        computed["arn"] = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{physical}"
        if inputs.get("streamEnabled"):
            computed["streamArn"] = f"{computed['arn']}/stream/2024-01-01T00:00:00.000"
    elif token == "aws:lambda/function:Function":
        computed["arn"] = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{physical}"
        computed["invokeArn"] = (
            f"arn:aws:apigateway:{REGION}:lambda:path/2015-03-31/functions/"
            f"{computed['arn']}/invocations"
        )
    elif token == "aws:apigateway/restApi:RestApi":
        computed["executionArn"] = f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{physical}-id"
        computed["rootResourceId"] = "root-resource-id"
    elif token == "aws:apigateway/stage:Stage":
        computed["invokeUrl"] = (
            f"https://{inputs['restApi']}.execute-api.{REGION}.amazonaws.com/{inputs['stageName']}"
        )
    elif token == "aws:cloudwatch/logGroup:LogGroup":
        computed["arn"] = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{physical}"
    elif token == "aws:secretsmanager/secretVersion:SecretVersion":
        computed["versionId"] = "version-1"
    return computed


def _attach_urns(deployment: Deployment, registered: dict[str, Any]) -> None:
    """Give each recorded resource the URN the monitor built (it names the parents' types)."""
    urns = {(urn.split("::")[2].split("$")[-1], urn.split("::")[3]): urn for urn in registered}
    assert len(urns) == len(registered), "two resources share a type and a logical name"
    for resource in deployment.resources:
        resource.urn = urns[(resource.type, resource.name)]


class _Warnings(logging.Handler):
    def __init__(self, sink: list[str]) -> None:
        super().__init__(logging.WARNING)
        self.sink = sink

    def emit(self, record: logging.LogRecord) -> None:
        self.sink.append(record.getMessage())


def run(stack: str, config: dict[str, str] | None = None) -> Deployment:
    """Run `__main__.py` for one stack under mocks; its config defaults to the stack file."""
    deployment = Deployment(stack, stack_config(stack) if config is None else config)
    logger = logging.getLogger(f"pulumi-mocks-{stack}")
    logger.propagate = False
    logger.handlers[:] = [_Warnings(deployment.warnings)]

    runtime_settings.ROOT.set(None)  # a fresh stack resource for every run
    monitor = MockMonitor(RecordingMocks(deployment))
    pulumi.runtime.set_mocks(
        monitor.mocks, project=PROJECT, stack=stack, preview=False, logger=logger, monitor=monitor
    )
    pulumi.runtime.set_all_config(deployment.config, [f"{PROJECT}:jwtSecret"])

    namespace: dict[str, Any] = {}
    program = REPO / "__main__.py"
    _sync_await(run_pulumi_func(lambda: namespace.update(runpy.run_path(str(program)))))
    deployment.settings = namespace["config"]
    _attach_urns(deployment, monitor.get_registered_resources())
    root = runtime_settings.get_root_resource()
    deployment.outputs = {
        name: _sync_await(pulumi.Output.from_input(value).future())
        for name, value in root.outputs.items()
    }
    return deployment


TABLE = "aws:dynamodb/table:Table"
QUEUE = "aws:sqs/queue:Queue"
STREAM = "aws:kinesis/stream:Stream"
BUS = "aws:cloudwatch/eventBus:EventBus"
RULE = "aws:cloudwatch/eventRule:EventRule"
TARGET = "aws:cloudwatch/eventTarget:EventTarget"
ARCHIVE = "aws:cloudwatch/eventArchive:EventArchive"
TOPIC = "aws:sns/topic:Topic"
TOPIC_POLICY = "aws:sns/topicPolicy:TopicPolicy"
SECRET = "aws:secretsmanager/secret:Secret"
SECRET_VERSION = "aws:secretsmanager/secretVersion:SecretVersion"
FUNCTION = "aws:lambda/function:Function"
MAPPING = "aws:lambda/eventSourceMapping:EventSourceMapping"
PERMISSION = "aws:lambda/permission:Permission"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
REST_API = "aws:apigateway/restApi:RestApi"
API_RESOURCE = "aws:apigateway/resource:Resource"
METHOD = "aws:apigateway/method:Method"
INTEGRATION = "aws:apigateway/integration:Integration"
STAGE = "aws:apigateway/stage:Stage"
METHOD_SETTINGS = "aws:apigateway/methodSettings:MethodSettings"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
DASHBOARD = "aws:cloudwatch/dashboard:Dashboard"
SUBSCRIPTION = "aws:sns/topicSubscription:TopicSubscription"

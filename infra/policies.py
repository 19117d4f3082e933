"""IAM policy documents, built as JSON from resource ARNs.

Every statement names its actions one by one and its resources by ARN. The only `*`
resource in the program is X-Ray's: `xray:PutTraceSegments` and
`xray:PutTelemetryRecords` have no resource type, so AWS accepts nothing else there.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

import pulumi

VERSION = "2012-10-17"
XRAY_WRITE = ("xray:PutTraceSegments", "xray:PutTelemetryRecords")
LOG_WRITE = ("logs:CreateLogStream", "logs:PutLogEvents")


def statement(
    sid: str,
    actions: Sequence[str],
    resources: Sequence[pulumi.Input[str]],
    *,
    principal: Mapping[str, str] | None = None,
    condition: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """One `Allow` statement; `sid` is reduced to the letters and digits IAM accepts."""
    body: dict[str, Any] = {
        "Sid": re.sub(r"[^A-Za-z0-9]", "", sid.title()),
        "Effect": "Allow",
        "Action": list(actions),
        "Resource": list(resources),
    }
    if principal:
        body["Principal"] = dict(principal)
    if condition:
        body["Condition"] = dict(condition)
    return body


def document(statements: Sequence[Mapping[str, Any]]) -> pulumi.Output[str]:
    """A policy document as JSON, once every ARN in it is known."""
    return pulumi.Output.json_dumps({"Version": VERSION, "Statement": list(statements)})


def assume_role(service: str) -> str:
    """A trust policy letting one AWS service assume the role."""
    trust = {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}
    return json.dumps({"Version": VERSION, "Statement": [trust]})


def xray_write() -> dict[str, Any]:
    """What active tracing needs; X-Ray's write actions take no resource but `*`."""
    return statement("xray-write", XRAY_WRITE, ["*"])


def log_write(log_group_arn: pulumi.Input[str]) -> dict[str, Any]:
    """Writing to the streams of one log group (the group itself is created beforehand)."""
    return statement("logs-write", LOG_WRITE, [pulumi.Output.concat(log_group_arn, ":*")])

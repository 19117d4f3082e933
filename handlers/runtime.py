"""What every handler shares: the JSON logger, EMF metrics, the service and the HTTP layer.

Everything expensive is built on first use and kept for the container's life: the
service with its AWS clients, and the JWT secret read once from Secrets Manager. boto3
is imported only then, so importing a handler module stays cheap (cold starts).
"""

from __future__ import annotations

import base64
import os
from dataclasses import replace
from functools import cache
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers

from toons.api import Api, HttpRequest, HttpResponse
from toons.aws import AwsNames, open_ports
from toons.aws.clients import clients_for
from toons.aws.dynamo import FailureNotes
from toons.aws.sqs import Parking
from toons.aws.wiring import JWT_SECRET_ENV
from toons.config import auth_from_env, limits_from_env
from toons.faults import NO_FAULTS, FaultPlan
from toons.processing import Registry
from toons.service import ToonService

logger = Logger(service="toons")
metrics = Metrics(namespace="Toons", service="toons")
# The core logs through the standard `toons` loggers; give them the JSON formatter.
copy_config_to_registered_loggers(source_logger=logger, include={"toons"})


# Toon types come from the installed plugins and no faults are injected; a test driver
# may supply its own registry and fault plan through `reset`.
_overrides: dict[str, Any] = {"registry": None, "faults": NO_FAULTS}


@cache
def service() -> ToonService:
    """The container's service, on the resources named in the environment."""
    return ToonService(
        open_ports(AwsNames.from_env()),
        limits_from_env(),
        _overrides["registry"],
        faults=_overrides["faults"],
    )


@cache
def failure_notes() -> FailureNotes:
    """Where workers note why a toon failed, for the dead-letter handler."""
    return FailureNotes(AwsNames.from_env())


@cache
def parking() -> Parking:
    """Where recorded dead letters wait for `toons redrive`."""
    return Parking(AwsNames.from_env())


@cache
def jwt_secret() -> str:
    """`TOONS_JWT_SECRET`, else the Secrets Manager secret named in the environment.

    The secret may be a plain string or a JSON object with a `secret` field.
    """
    if os.environ.get("TOONS_JWT_SECRET"):
        return os.environ["TOONS_JWT_SECRET"]
    import json

    secrets = clients_for().client("secretsmanager")
    raw = secrets.get_secret_value(SecretId=os.environ[JWT_SECRET_ENV])["SecretString"]
    try:
        return json.loads(raw)["secret"]
    except (ValueError, TypeError, KeyError):
        return raw


@cache
def api() -> Api:
    """The HTTP contract over the container's service."""
    return Api(service(), replace(auth_from_env(), secret=jwt_secret()))


def reset(registry: Registry | None = None, faults: FaultPlan = NO_FAULTS) -> None:
    """Forget the cached service, secret and API (tests move between resources)."""
    _overrides.update(registry=registry, faults=faults)
    for built in (service, failure_notes, parking, jwt_secret, api):
        built.cache_clear()


def to_request(event: dict[str, Any]) -> HttpRequest:
    """An API Gateway (REST, proxy) event as the HTTP layer's request."""
    body = event.get("body") or ""
    raw = base64.b64decode(body) if event.get("isBase64Encoded") else body.encode()
    return HttpRequest(
        method=event.get("httpMethod", "GET"),
        path=event.get("path") or "/",
        query=event.get("queryStringParameters") or {},
        headers={k.lower(): v for k, v in (event.get("headers") or {}).items()},
        body=raw,
    )


def to_proxy(response: HttpResponse) -> dict[str, Any]:
    """The HTTP layer's response as an API Gateway proxy result."""
    return {
        "statusCode": response.status,
        "headers": response.all_headers(),
        "body": response.encoded().decode(),
        "isBase64Encoded": False,
    }


def serve_http(event: dict[str, Any]) -> dict[str, Any]:
    """Answer one API Gateway event through the shared HTTP layer."""
    response = api().handle(to_request(event))
    logger.info(
        "request answered",
        extra={
            "method": event.get("httpMethod"),
            "path": event.get("path"),
            "status": response.status,
        },
    )
    return to_proxy(response)

"""The REST API (API Gateway v1): exactly wiring's routes, each proxied to its function.

Methods carry no API Gateway authorizer: every function checks the bearer token in the
shared HTTP layer (`toons.api`), which answers the contract's own errors
(`Header Authorization no presente`, `Token inválido`, `Token expirado`) with their codes;
an authorizer could only answer API Gateway's. docs/deploy.md explains the choice.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra import policies
from infra.functions import ToonFunction
from infra.settings import Settings
from toons.aws import wiring

ACCESS_LOG_FORMAT = json.dumps(
    {
        "requestId": "$context.requestId",
        "ip": "$context.identity.sourceIp",
        "requestTime": "$context.requestTime",
        "httpMethod": "$context.httpMethod",
        "resourcePath": "$context.resourcePath",
        "path": "$context.path",
        "status": "$context.status",
        "responseLength": "$context.responseLength",
        "latencyMs": "$context.responseLatency",
        "integrationLatencyMs": "$context.integrationLatency",
        "error": "$context.error.message",
        "integrationError": "$context.integration.error",
    },
    separators=(",", ":"),
)

# Answers API Gateway gives before any function runs, in the contract's error shape:
# type -> (status, body). A status of None keeps API Gateway's own (429, 502, 504...).
GATEWAY_RESPONSES = wiring.GATEWAY_RESPONSES


@dataclass(frozen=True)
class ApiArgs:
    """What the API is built from: the stack's settings and the functions by wiring name."""

    settings: Settings
    functions: dict[str, ToonFunction]


class Api(pulumi.ComponentResource):
    """REST API, its routes, one stage with throttling and access logs."""

    rest_api: aws.apigateway.RestApi
    stage: aws.apigateway.Stage
    access_logs: aws.cloudwatch.LogGroup

    def __init__(
        self, name: str, args: ApiArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("toons:infra:Api", name, None, opts)
        self._child = pulumi.ResourceOptions(parent=self)
        self._settings = settings = args.settings
        self._resources: dict[str, aws.apigateway.Resource] = {}

        self.rest_api = aws.apigateway.RestApi(
            "rest-api",
            name=settings.physical("api"),
            description="Toon processor HTTP API",
            endpoint_configuration=aws.apigateway.RestApiEndpointConfigurationArgs(
                types="REGIONAL"
            ),
            opts=self._child,
        )
        parts = self._routes(args.functions) + self._gateway_responses()
        deployment = aws.apigateway.Deployment(
            "deployment",
            rest_api=self.rest_api.id,
            description=f"toons {settings.stack}",
            # A REST API serves its last deployment: deploy again whenever a part changes.
            triggers={"redeployment": _fingerprint(parts, args.functions)},
            opts=pulumi.ResourceOptions(parent=self, depends_on=parts),
        )
        self.access_logs = aws.cloudwatch.LogGroup(
            "access-logs",
            name=f"/aws/apigateway/{settings.physical('api')}",
            retention_in_days=settings.log_retention_days,
            opts=self._child,
        )
        account = self._cloudwatch_account() if settings.manage_api_gateway_account else []
        self.stage = aws.apigateway.Stage(
            "stage",
            rest_api=self.rest_api.id,
            deployment=deployment.id,
            stage_name=settings.stack,
            xray_tracing_enabled=True,
            access_log_settings=aws.apigateway.StageAccessLogSettingsArgs(
                destination_arn=self.access_logs.arn, format=ACCESS_LOG_FORMAT
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=account),
        )
        aws.apigateway.MethodSettings(
            "throttling",
            rest_api=self.rest_api.id,
            stage_name=self.stage.stage_name,
            method_path="*/*",
            settings=aws.apigateway.MethodSettingsSettingsArgs(
                throttling_rate_limit=settings.api_rate_limit,
                throttling_burst_limit=settings.api_burst_limit,
                metrics_enabled=True,
            ),
            opts=self._child,
        )
        self.register_outputs({"endpoint": self.endpoint})

    @property
    def endpoint(self) -> pulumi.Output[str]:
        """The stage's base URL; routes are appended to it (`.../dev/submit-job`)."""
        return self.stage.invoke_url

    def _routes(self, functions: dict[str, ToonFunction]) -> list[pulumi.Resource]:
        """A method and a proxy integration per route, and the permission to invoke."""
        parts: list[pulumi.Resource] = []
        for declared in wiring.FUNCTIONS:
            if declared.route is None:
                continue
            method, path = declared.route
            function = functions[declared.name].function
            resource_id = self._resource_id(path)
            slug = f"{method.lower()}-{_slug(path)}"
            method_resource = aws.apigateway.Method(
                f"{slug}-method",
                rest_api=self.rest_api.id,
                resource_id=resource_id,
                http_method=method,
                authorization="NONE",
                request_parameters={
                    f"method.request.path.{p}": True for p in re.findall(r"{(\w+)}", path)
                }
                or None,
                opts=self._child,
            )
            integration = aws.apigateway.Integration(
                f"{slug}-integration",
                rest_api=self.rest_api.id,
                resource_id=resource_id,
                http_method=method_resource.http_method,
                type="AWS_PROXY",
                integration_http_method="POST",
                uri=function.invoke_arn,
                opts=self._child,
            )
            aws.lambda_.Permission(
                f"{slug}-permission",
                action="lambda:InvokeFunction",
                function=function.name,
                principal="apigateway.amazonaws.com",
                source_arn=pulumi.Output.concat(
                    self.rest_api.execution_arn, f"/*/{method}", re.sub(r"{\w+}", "*", path)
                ),
                opts=self._child,
            )
            parts += [method_resource, integration]
        return parts

    def _resource_id(self, path: str) -> pulumi.Output[str]:
        """The id of the API resource for `path`, creating each missing segment once."""
        parent_id: pulumi.Output[str] = self.rest_api.root_resource_id
        prefix = ""
        for segment in path.strip("/").split("/"):
            prefix = f"{prefix}/{segment}"
            if prefix not in self._resources:
                self._resources[prefix] = aws.apigateway.Resource(
                    f"{_slug(prefix)}-resource",
                    rest_api=self.rest_api.id,
                    parent_id=parent_id,
                    path_part=segment,
                    opts=self._child,
                )
            parent_id = self._resources[prefix].id
        return parent_id

    def _gateway_responses(self) -> list[pulumi.Resource]:
        return [
            aws.apigateway.Response(
                f"{kind.lower().replace('_', '-')}-response",
                rest_api_id=self.rest_api.id,
                response_type=kind,
                status_code=status,
                response_templates={"application/json": json.dumps(body)},
                opts=self._child,
            )
            for kind, (status, body) in GATEWAY_RESPONSES.items()
        ]

    def _cloudwatch_account(self) -> list[pulumi.Resource]:
        """API Gateway's account-wide role for writing logs (needed once per account/region)."""
        identity = aws.get_caller_identity_output()
        region = aws.get_region_output()
        partition = aws.get_partition_output()
        groups = pulumi.Output.format(
            "arn:{0}:logs:{1}:{2}:log-group:*",
            partition.partition,
            region.region,
            identity.account_id,
        )
        role = aws.iam.Role(
            "cloudwatch-role",
            name=self._settings.physical("apigateway-logs"),
            assume_role_policy=policies.assume_role("apigateway.amazonaws.com"),
            opts=self._child,
        )
        aws.iam.RolePolicy(
            "cloudwatch-policy",
            role=role.id,
            policy=policies.document(
                [
                    policies.statement(
                        "apigateway-logs",
                        (
                            "logs:CreateLogGroup",
                            "logs:CreateLogStream",
                            "logs:DescribeLogGroups",
                            "logs:DescribeLogStreams",
                            "logs:PutLogEvents",
                            "logs:GetLogEvents",
                            "logs:FilterLogEvents",
                        ),
                        [groups],
                    )
                ]
            ),
            opts=self._child,
        )
        return [
            aws.apigateway.Account(
                "cloudwatch-account", cloudwatch_role_arn=role.arn, opts=self._child
            )
        ]


def _slug(path: str) -> str:
    """A kebab-case name for a path: `/jobs/{jobId}` -> `jobs-job-id`."""
    words = re.sub(r"([a-z0-9])([A-Z])", r"\1-\2", path).lower()
    return "-".join(re.findall(r"[a-z0-9]+", words))


def _fingerprint(
    parts: list[pulumi.Resource], functions: dict[str, ToonFunction]
) -> pulumi.Output[str]:
    """A digest of everything a deployment serves: routes, responses, ids, targets."""
    spec = json.dumps(
        [[f.name, f.route] for f in wiring.FUNCTIONS if f.route] + [GATEWAY_RESPONSES],
        sort_keys=True,
    )
    ids = [part.id for part in parts]
    targets = [function.function.invoke_arn for function in functions.values()]
    return pulumi.Output.all(*ids, *targets).apply(
        lambda values: hashlib.sha256(json.dumps([spec, values]).encode()).hexdigest()
    )

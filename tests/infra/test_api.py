"""The REST API: wiring's routes and nothing else, proxied, throttled and logged."""

from __future__ import annotations

import json

from infra import api
from tests.infra.harness import (
    API_RESOURCE,
    INTEGRATION,
    METHOD,
    METHOD_SETTINGS,
    PERMISSION,
    REST_API,
    STAGE,
    Deployment,
)
from toons.aws import wiring

ROUTED = [fn for fn in wiring.FUNCTIONS if fn.route]


def _paths(deployment: Deployment) -> dict[str, str]:
    """API resource id -> full path, rebuilt from the parent links."""
    resources = {f"{r.name}-id": r.inputs for r in deployment.of_type(API_RESOURCE)}

    def path(resource_id: str) -> str:
        if resource_id == "root-resource-id":
            return ""
        inputs = resources[resource_id]
        return f"{path(inputs['parentId'])}/{inputs['pathPart']}"

    return {resource_id: path(resource_id) for resource_id in resources}


def _routes(deployment: Deployment) -> set[tuple[str, str]]:
    paths = _paths(deployment)
    return {
        (m.inputs["httpMethod"], paths[m.inputs["resourceId"]]) for m in deployment.of_type(METHOD)
    }


def test_the_api_serves_exactly_the_routes_wiring_declares(deployment):
    assert _routes(deployment) == {fn.route for fn in ROUTED}


def test_each_route_proxies_to_its_own_function(deployment):
    paths = _paths(deployment)
    for integration in deployment.of_type(INTEGRATION):
        route = (integration.inputs["httpMethod"], paths[integration.inputs["resourceId"]])
        fn = next(f for f in ROUTED if f.route == route)

        assert integration.inputs["type"] == "AWS_PROXY"
        assert integration.inputs["integrationHttpMethod"] == "POST"
        assert (
            f":function:toons-{deployment.stack}-{fn.name}/invocations" in integration.inputs["uri"]
        )
    assert len(deployment.of_type(INTEGRATION)) == len(ROUTED)


def test_tokens_are_checked_by_the_functions_not_by_an_authorizer(deployment):
    assert {m.inputs["authorization"] for m in deployment.of_type(METHOD)} == {"NONE"}


def test_api_gateway_may_invoke_each_routed_function_on_its_route_only(deployment):
    execution = f"arn:aws:execute-api:eu-west-1:123456789012:toons-{deployment.stack}-api-id"
    from_api = [
        p
        for p in deployment.of_type(PERMISSION)
        if p.inputs["principal"] == "apigateway.amazonaws.com"
    ]
    granted = {(p.inputs["function"], p.inputs["sourceArn"]) for p in from_api}
    expected = {
        (
            f"toons-{deployment.stack}-{fn.name}",
            f"{execution}/*/{fn.route[0]}{fn.route[1].replace('{jobId}', '*')}",
        )
        for fn in ROUTED
    }

    assert granted == expected


def test_the_stage_is_named_after_the_stack_and_traced(deployment):
    stage = deployment.one(STAGE, "stage")

    assert stage.inputs["stageName"] == deployment.stack
    assert stage.inputs["xrayTracingEnabled"] is True
    assert deployment.outputs["apiEndpoint"].endswith(f".amazonaws.com/{deployment.stack}")


def test_the_stage_writes_json_access_logs_to_a_kept_log_group(deployment):
    logs = deployment.one(STAGE, "stage").inputs["accessLogSettings"]

    assert logs["destinationArn"].endswith(
        f":log-group:/aws/apigateway/toons-{deployment.stack}-api"
    )
    assert {"requestId", "status", "resourcePath"} <= set(json.loads(logs["format"]))


def test_throttling_applies_to_every_method_as_the_stack_says(deployment):
    settings = deployment.one(METHOD_SETTINGS, "throttling").inputs

    assert settings["methodPath"] == "*/*"
    assert settings["stageName"] == deployment.stack
    assert settings["settings"]["throttlingRateLimit"] == deployment.setting("apiRateLimit", 50)
    assert settings["settings"]["throttlingBurstLimit"] == deployment.setting("apiBurstLimit", 100)


def test_prod_allows_more_traffic_than_dev(deployments):
    rates = {
        stack: d.one(METHOD_SETTINGS, "throttling").inputs["settings"]["throttlingRateLimit"]
        for stack, d in deployments.items()
    }

    assert rates["prod"] > rates["staging"] >= rates["dev"]


def test_gateway_errors_keep_the_contract_shape():
    for _status, body in api.GATEWAY_RESPONSES.values():
        assert set(body) == {"error", "code"}


def test_one_regional_api_per_stack(deployment):
    (rest_api,) = deployment.of_type(REST_API)

    assert rest_api.inputs["name"] == f"toons-{deployment.stack}-api"
    assert rest_api.inputs["endpointConfiguration"]["types"] == "REGIONAL"

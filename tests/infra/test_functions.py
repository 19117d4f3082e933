"""Functions: one per wiring entry, each with its own role, logs, environment and trigger."""

from __future__ import annotations

import dataclasses

from infra import policies
from tests.infra.harness import FUNCTION, LOG_GROUP, MAPPING, ROLE, ROLE_POLICY, Deployment
from toons.aws import wiring

REGION_ACCOUNT = "eu-west-1:123456789012"


def _function(deployment: Deployment, name: str):
    return deployment.one(FUNCTION, f"{name}-function")


def _statements(deployment: Deployment, name: str) -> list[dict]:
    return deployment.one(ROLE_POLICY, f"{name}-policy").json("policy")["Statement"]


def _arn(deployment: Deployment, kind: str, name: str) -> str:
    """The ARN the mocks give the resource wiring calls (kind, name)."""
    table, _, index = name.partition("/")
    physical = f"toons-{deployment.stack}-{'bus' if kind == 'bus' else table}"
    return {
        "table": f"arn:aws:dynamodb:{REGION_ACCOUNT}:table/{physical}",
        "table-index": f"arn:aws:dynamodb:{REGION_ACCOUNT}:table/{physical}/index/{index}",
        "table-stream": f"arn:aws:dynamodb:{REGION_ACCOUNT}:table/{physical}"
        "/stream/2024-01-01T00:00:00.000",
        "queue": f"arn:aws:sqs:{REGION_ACCOUNT}:{physical}",
        "stream": f"arn:aws:kinesis:{REGION_ACCOUNT}:{physical}",
        "bus": f"arn:aws:cloudwatch:{REGION_ACCOUNT}:{physical}",
        "secret": f"arn:aws:secretsmanager:{REGION_ACCOUNT}:{physical}",
    }[kind]


def test_each_wiring_function_runs_python_312_on_arm_with_its_handler(deployment):
    for fn in wiring.FUNCTIONS:
        function = _function(deployment, fn.name)

        assert function.inputs["name"] == f"toons-{deployment.stack}-{fn.name}"
        assert function.inputs["runtime"] == "python3.12"
        assert function.inputs["architectures"] == ["arm64"]
        assert function.inputs["handler"] == fn.handler
        assert function.inputs["tracingConfig"] == {"mode": "Active"}
    assert len(deployment.of_type(FUNCTION)) == len(wiring.FUNCTIONS)


def test_memory_and_timeout_are_wiring_defaults_unless_the_stack_overrides(deployment):
    overrides = deployment.setting("functions", {})
    for fn in wiring.FUNCTIONS:
        function = _function(deployment, fn.name)
        mine = overrides.get(fn.name, {})

        assert function.inputs["memorySize"] == mine.get("memoryMb", fn.memory_mb)
        assert function.inputs["timeout"] == mine.get("timeoutS", fn.timeout_s)


def test_prod_gives_the_worker_more_memory(deployments):
    assert _function(deployments["prod"], "worker").inputs["memorySize"] == 1024
    assert _function(deployments["dev"], "worker").inputs["memorySize"] == 512


def test_environment_is_wiring_environment_with_physical_names(deployment):
    stack = deployment.stack
    physical = {
        "table": lambda n: f"toons-{stack}-{n}",
        "queue": lambda n: (
            f"https://sqs.eu-west-1.amazonaws.com/123456789012/toons-{deployment.stack}-{n}"
        ),
        "bus": lambda n: f"toons-{stack}-bus",
        "secret": lambda n: f"toons-{stack}-{n}",
    }
    for fn in wiring.FUNCTIONS:
        variables = _function(deployment, fn.name).inputs["environment"]["variables"]
        expected = {}
        for variable, reference in wiring.environment(fn).items():
            kind, _, name = reference.partition(":")
            expected[variable] = physical[kind](name)

        assert {k: variables[k] for k in expected} == expected
        assert set(variables) - set(expected) - {"TOONS_MAX_RECEIVES"} == {
            "POWERTOOLS_SERVICE_NAME",
            "POWERTOOLS_METRICS_NAMESPACE",
            "POWERTOOLS_LOG_LEVEL",
        }


def test_the_dead_letter_consumer_knows_the_stack_max_receives(deployment):
    max_receives = deployment.setting("maxReceives", wiring.queue("work").max_receives)
    for fn in wiring.FUNCTIONS:
        variables = _function(deployment, fn.name).inputs["environment"]["variables"]
        expected = str(max_receives) if fn.name == "dead-letter" else None

        assert variables.get("TOONS_MAX_RECEIVES") == expected, fn.name


def test_functions_that_need_the_key_get_the_secret_name(deployment):
    for fn in wiring.FUNCTIONS:
        variables = _function(deployment, fn.name).inputs["environment"]["variables"]
        if ("secret", "jwt") in fn.needs:
            assert variables[wiring.JWT_SECRET_ENV] == f"toons-{deployment.stack}-jwt"
        else:
            assert wiring.JWT_SECRET_ENV not in variables


def test_each_function_has_its_own_role_for_lambda(deployment):
    roles = {}
    for fn in wiring.FUNCTIONS:
        role = deployment.one(ROLE, f"{fn.name}-role")
        trust = role.json("assumeRolePolicy")["Statement"]
        roles[fn.name] = _function(deployment, fn.name).inputs["role"]

        assert trust == [
            {
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ]
        assert deployment.one(ROLE_POLICY, f"{fn.name}-policy").inputs["role"] == (
            f"{role.inputs['name']}-id"
        )
    assert len(set(roles.values())) == len(wiring.FUNCTIONS)


def test_a_role_grants_exactly_wiring_access_on_those_arns(deployment):
    for fn in wiring.FUNCTIONS:
        granted = {
            (action, resource)
            for statement in _statements(deployment, fn.name)
            for action in statement["Action"]
            for resource in statement["Resource"]
        }
        expected = {
            (action, _arn(deployment, access.kind, access.name))
            for access in fn.access
            for action in access.actions
        }
        group = f"/aws/lambda/toons-{deployment.stack}-{fn.name}"
        streams = f"arn:aws:logs:{REGION_ACCOUNT}:log-group:{group}:*"
        expected |= {(action, streams) for action in policies.LOG_WRITE}
        expected |= {(action, "*") for action in policies.XRAY_WRITE}

        assert granted == expected, fn.name


def test_no_wildcard_actions_and_star_resources_only_for_xray(deployment):
    for policy in deployment.of_type(ROLE_POLICY):
        for statement in policy.json("policy")["Statement"]:
            assert statement["Effect"] == "Allow"
            assert all("*" not in action for action in statement["Action"]), policy.name
            if "*" in statement["Resource"]:
                assert statement["Resource"] == ["*"]
                assert sorted(statement["Action"]) == sorted(policies.XRAY_WRITE)


def test_the_table_stream_consumer_reads_the_stream_not_the_table(deployment):
    projector = _statements(deployment, "projector")
    reads = [s for s in projector if "dynamodb:GetRecords" in s["Action"]]

    assert [s["Resource"] for s in reads] == [[_arn(deployment, "table-stream", "jobs")]]


def test_each_function_logs_to_its_own_group_kept_as_the_stack_says(deployment):
    retention = deployment.setting("logRetentionDays", 14)
    for fn in wiring.FUNCTIONS:
        group = deployment.one(LOG_GROUP, f"{fn.name}-logs")

        assert group.inputs["name"] == f"/aws/lambda/toons-{deployment.stack}-{fn.name}"
        assert group.inputs["retentionInDays"] == retention


def test_event_source_mappings_and_wiring_agree(deployment):
    """The two agree: each mapping is wiring's source, with the stack's worker overrides."""
    mappings = {
        m.inputs["functionName"].rsplit(":", 1)[1]: m.inputs for m in deployment.of_type(MAPPING)
    }

    for fn in wiring.FUNCTIONS:
        mapping = mappings.pop(f"toons-{deployment.stack}-{fn.name}", None)
        polled = fn.source is not None and not isinstance(fn.source, wiring.ScheduleSource)
        assert (mapping is not None) == polled, fn.name
        if polled:
            assert mapping == _expected_mapping(deployment, fn)
    assert mappings == {}


def _expected_mapping(deployment: Deployment, fn: wiring.Function) -> dict:
    source = fn.source
    function_arn = f"arn:aws:lambda:{REGION_ACCOUNT}:function:toons-{deployment.stack}-{fn.name}"
    if isinstance(source, wiring.SqsSource):
        if fn.name == "worker":
            source = dataclasses.replace(
                source,
                batch_size=deployment.setting("workerBatchSize", source.batch_size),
                window_s=deployment.setting("workerBatchWindowS", source.window_s),
                max_concurrency=deployment.setting("workerMaxConcurrency", source.max_concurrency),
            )
        return {
            "functionName": function_arn,
            "eventSourceArn": _arn(deployment, "queue", source.queue),
            "batchSize": source.batch_size,
            "maximumBatchingWindowInSeconds": source.window_s,
            "scalingConfig": {"maximumConcurrency": source.max_concurrency},
            "functionResponseTypes": ["ReportBatchItemFailures"],
        }
    origin = (
        _arn(deployment, "stream", source.stream)
        if isinstance(source, wiring.KinesisSource)
        else _arn(deployment, "table-stream", source.table)
    )
    return {
        "functionName": function_arn,
        "eventSourceArn": origin,
        "startingPosition": source.starting_position,
        "batchSize": source.batch_size,
        "maximumBatchingWindowInSeconds": source.window_s,
        "bisectBatchOnFunctionError": source.bisect_on_error,
        "maximumRetryAttempts": source.max_retries,
        "destinationConfig": {
            "onFailure": {"destinationArn": _arn(deployment, "queue", source.on_failure)}
        },
    }


def test_scheduled_functions_run_on_their_declared_schedule(deployment):
    rules = {
        r.inputs["name"]: r
        for r in deployment.of_type("aws:cloudwatch/eventRule:EventRule")
        if "scheduleExpression" in r.inputs
    }
    scheduled = [fn for fn in wiring.FUNCTIONS if isinstance(fn.source, wiring.ScheduleSource)]
    invoking = [
        p
        for p in deployment.of_type("aws:lambda/permission:Permission")
        if p.inputs["principal"] == "events.amazonaws.com"
    ]

    assert scheduled
    for fn in scheduled:
        rule = rules[f"toons-{deployment.stack}-{fn.name}"]
        assert rule.inputs["scheduleExpression"] == fn.source.expression
    assert {p.inputs["function"] for p in invoking} == {
        f"toons-{deployment.stack}-{fn.name}" for fn in scheduled
    }

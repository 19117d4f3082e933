"""Queues, stream, bus, rules, topics and archive: wiring's flow, per stack."""

from __future__ import annotations

import json

from tests.infra.harness import (
    ARCHIVE,
    BUS,
    QUEUE,
    ROLE,
    ROLE_POLICY,
    RULE,
    STREAM,
    TARGET,
    TOPIC,
    TOPIC_POLICY,
    Deployment,
)
from toons.aws import wiring


def _queue(deployment: Deployment, name: str):
    return deployment.by_input(QUEUE, "name", f"toons-{deployment.stack}-{name}")


def _arn(deployment: Deployment, name: str) -> str:
    return f"arn:aws:sqs:eu-west-1:123456789012:toons-{deployment.stack}-{name}"


def test_each_wiring_queue_exists_encrypted(deployment):
    for declared in wiring.QUEUES:
        assert _queue(deployment, declared.name).inputs["sqsManagedSseEnabled"] is True
    assert len(deployment.of_type(QUEUE)) == len(wiring.QUEUES)


def test_the_work_queue_moves_spent_messages_to_its_dead_letter_queue(deployment):
    work = wiring.queue("work")
    redrive = json.loads(_queue(deployment, "work").inputs["redrivePolicy"])

    assert redrive == {
        "deadLetterTargetArn": _arn(deployment, work.dead_letter),
        "maxReceiveCount": deployment.setting("maxReceives", work.max_receives),
    }


def test_every_consumed_queue_has_a_dead_letter_queue_or_is_one(deployment):
    dead_letters = {q.dead_letter for q in wiring.QUEUES if q.dead_letter}

    for name in deployment.settings.consumed_queues:
        queue = _queue(deployment, name)
        assert "redrivePolicy" in queue.inputs or name in dead_letters, name


def test_visibility_timeout_is_six_times_the_consumer_timeout(deployment):
    for fn in wiring.FUNCTIONS:
        if not isinstance(fn.source, wiring.SqsSource):
            continue
        timeout = deployment.settings.functions[fn.name].timeout_s
        queue = _queue(deployment, fn.source.queue)

        assert queue.inputs["visibilityTimeoutSeconds"] >= 6 * timeout
        assert queue.inputs["visibilityTimeoutSeconds"] == wiring.visibility_timeout_s(
            fn.source.queue, deployment.settings.timeouts
        )


def test_dead_letter_parked_and_stream_failure_queues_keep_messages_14_days(deployment):
    for name in ("dead-letter", "parked", "stream-failures"):
        assert _queue(deployment, name).inputs["messageRetentionSeconds"] == 14 * 24 * 3600


def test_the_stream_is_on_demand_in_prod_and_one_provisioned_shard_elsewhere(deployments):
    for stack, deployment in deployments.items():
        for stream in deployment.of_type(STREAM):
            mode = stream.inputs["streamModeDetails"]["streamMode"]
            if stack == "prod":
                assert (mode, stream.inputs.get("shardCount")) == ("ON_DEMAND", None)
            else:
                assert (mode, stream.inputs["shardCount"]) == ("PROVISIONED", 1)


def test_each_wiring_stream_exists(deployment):
    names = {s.inputs["name"] for s in deployment.of_type(STREAM)}

    assert names == {f"toons-{deployment.stack}-{s.name}" for s in wiring.STREAMS}


def test_rules_match_exactly_the_patterns_wiring_declares(deployment):
    rules = {r.inputs["name"]: r for r in deployment.of_type(RULE) if "eventPattern" in r.inputs}

    assert set(rules) == {f"toons-{deployment.stack}-{r.name}" for r in wiring.RULES}
    for declared in wiring.RULES:
        rule = rules[f"toons-{deployment.stack}-{declared.name}"]
        assert json.loads(rule.inputs["eventPattern"]) == declared.pattern
        assert rule.inputs["eventBusName"] == f"toons-{deployment.stack}-bus"


def test_completions_go_to_the_stream_partitioned_by_the_rule_path(deployment):
    for declared in (r for r in wiring.RULES if r.target_kind == "stream"):
        target = deployment.one(TARGET, f"{declared.name}-target")
        stream = (
            f"arn:aws:kinesis:eu-west-1:123456789012:toons-{deployment.stack}-{declared.target}"
        )

        assert target.inputs["arn"] == stream
        assert target.inputs["kinesisTarget"] == {"partitionKeyPath": declared.partition_key_path}


def test_eventbridge_may_only_put_records_on_that_stream(deployment):
    for declared in (r for r in wiring.RULES if r.target_kind == "stream"):
        role = deployment.one(ROLE, f"{declared.name}-target-role")
        policy = deployment.one(ROLE_POLICY, f"{declared.name}-target-policy").json("policy")
        stream = (
            f"arn:aws:kinesis:eu-west-1:123456789012:toons-{deployment.stack}-{declared.target}"
        )

        assert role.json("assumeRolePolicy")["Statement"][0]["Principal"] == {
            "Service": "events.amazonaws.com"
        }
        assert [(s["Action"], s["Resource"]) for s in policy["Statement"]] == [
            (["kinesis:PutRecord", "kinesis:PutRecords"], [stream])
        ]


def test_status_changes_go_to_a_topic_only_their_rule_may_publish_to(deployment):
    for declared in (r for r in wiring.RULES if r.target_kind == "topic"):
        topic_arn = f"arn:aws:sns:eu-west-1:123456789012:toons-{deployment.stack}-{declared.target}"
        rule_arn = (
            f"arn:aws:cloudwatch:eu-west-1:123456789012:toons-{deployment.stack}-{declared.name}"
        )
        policy = deployment.one(TOPIC_POLICY, f"{declared.target}-topic-policy").json("policy")

        assert deployment.one(TARGET, f"{declared.name}-target").inputs["arn"] == topic_arn
        assert policy["Statement"] == [
            {
                "Sid": policy["Statement"][0]["Sid"],
                "Effect": "Allow",
                "Action": ["sns:Publish"],
                "Resource": [topic_arn],
                "Principal": {"Service": "events.amazonaws.com"},
                "Condition": {"ArnEquals": {"aws:SourceArn": rule_arn}},
            }
        ]
    assert deployment.by_input(TOPIC, "name", f"toons-{deployment.stack}-job-status")


def test_the_archive_keeps_the_bus_events_as_long_as_the_stack_says(deployment):
    archive = deployment.one(ARCHIVE, "event-archive")
    bus = deployment.one(BUS, "event-bus")

    assert (
        archive.inputs["eventSourceArn"]
        == f"arn:aws:cloudwatch:eu-west-1:123456789012:{bus.inputs['name']}"
    )
    assert archive.inputs["retentionDays"] == deployment.setting("archiveRetentionDays", 7)

"""Alarms on what needs a person, the topic they notify, and the dashboard."""

from __future__ import annotations

import json

from tests.infra import harness
from tests.infra.harness import ALARM, DASHBOARD, SUBSCRIPTION, TOPIC, Deployment
from toons.aws import wiring


def _alarms(deployment: Deployment) -> dict[str, dict]:
    prefix = f"toons-{deployment.stack}-"
    return {a.inputs["name"].removeprefix(prefix): a.inputs for a in deployment.of_type(ALARM)}


def test_each_dead_letter_and_holding_queue_alarms_when_messages_wait(deployment):
    alarms = _alarms(deployment)
    for name in ("dead-letter", "parked", "stream-failures"):
        alarm = alarms[f"{name}-not-empty"]

        assert alarm["metricName"] == "ApproximateNumberOfMessagesVisible"
        assert alarm["dimensions"] == {"QueueName": f"toons-{deployment.stack}-{name}"}
        assert (alarm["comparisonOperator"], alarm["threshold"]) == ("GreaterThanThreshold", 0)


def test_the_drained_dead_letter_queue_alarms_only_when_it_stays_full(deployment):
    alarms = _alarms(deployment)

    assert alarms["dead-letter-not-empty"]["evaluationPeriods"] == deployment.setting(
        "alarmDeadLetterPeriods", 3
    )
    assert alarms["parked-not-empty"]["evaluationPeriods"] == 1


def test_every_function_alarms_on_errors_and_throttles(deployment):
    alarms = _alarms(deployment)
    for fn in wiring.FUNCTIONS:
        function = {"FunctionName": f"toons-{deployment.stack}-{fn.name}"}

        assert alarms[f"{fn.name}-errors"]["metricName"] == "Errors"
        assert alarms[f"{fn.name}-errors"]["dimensions"] == function
        assert alarms[f"{fn.name}-errors"]["threshold"] == deployment.setting(
            "alarmErrorThreshold", 0
        )
        assert alarms[f"{fn.name}-throttles"]["metricName"] == "Throttles"
        assert alarms[f"{fn.name}-throttles"]["dimensions"] == function


def test_every_stream_consumer_alarms_when_it_falls_behind(deployment):
    alarms = _alarms(deployment)
    consumers = [
        fn
        for fn in wiring.FUNCTIONS
        if isinstance(fn.source, wiring.KinesisSource | wiring.TableStreamSource)
    ]
    for fn in consumers:
        alarm = alarms[f"{fn.name}-iterator-age"]

        assert (alarm["namespace"], alarm["metricName"]) == ("AWS/Lambda", "IteratorAge")
        assert alarm["threshold"] == deployment.setting("alarmIteratorAgeMs", 60_000)
    assert {fn.name for fn in consumers} == {"aggregator", "projector"}


def test_the_completions_stream_alarms_on_its_iterator_age(deployment):
    for stream in wiring.STREAMS:
        alarm = _alarms(deployment)[f"{stream.name}-stream-iterator-age"]

        assert alarm["metricName"] == "GetRecords.IteratorAgeMilliseconds"
        assert alarm["dimensions"] == {"StreamName": f"toons-{deployment.stack}-{stream.name}"}


def test_stuck_jobs_alarm_on_the_application_metric(deployment):
    alarm = _alarms(deployment)["jobs-stuck"]

    assert (alarm["namespace"], alarm["metricName"]) == ("Toons", "JobsStuck")
    assert alarm["dimensions"] == {"service": "toons"}
    assert alarm["treatMissingData"] == "notBreaching"


def test_every_alarm_notifies_the_alarm_topic_both_ways(deployment):
    topic = deployment.by_input(TOPIC, "name", f"toons-{deployment.stack}-alarms")
    arn = f"arn:aws:sns:eu-west-1:123456789012:{topic.inputs['name']}"

    for name, alarm in _alarms(deployment).items():
        assert alarm["alarmActions"] == [arn], name
        assert alarm["okActions"] == [arn], name
    assert deployment.outputs["alarmTopicArn"] == arn


def test_no_email_subscription_unless_configured(deployment):
    assert deployment.of_type(SUBSCRIPTION) == []


def test_an_alarm_email_subscribes_to_the_alarm_topic():
    config = {**harness.stack_config("dev"), "toons:alarmEmail": "oncall@example.com"}
    deployment = harness.run("dev", config)

    (subscription,) = deployment.of_type(SUBSCRIPTION)
    assert subscription.inputs["protocol"] == "email"
    assert subscription.inputs["endpoint"] == "oncall@example.com"


def test_the_dashboard_shows_the_main_metrics(deployment):
    body = json.loads(deployment.one(DASHBOARD, "dashboard").inputs["dashboardBody"])
    metrics = {
        (line[0], line[1]) for widget in body["widgets"] for line in widget["properties"]["metrics"]
    }

    assert {w["properties"]["region"] for w in body["widgets"]} == {harness.REGION}
    assert {
        ("Toons", "ToonsProcessed"),
        ("Toons", "ToonsFailed"),
        ("Toons", "ProcessingTime"),
        ("Toons", "JobsCompleted"),
        ("Toons", "JobDuration"),
        ("Toons", "JobsStuck"),
        ("AWS/Lambda", "Errors"),
        ("AWS/Lambda", "IteratorAge"),
        ("AWS/SQS", "ApproximateNumberOfMessagesVisible"),
        ("AWS/Kinesis", "GetRecords.IteratorAgeMilliseconds"),
        ("AWS/ApiGateway", "5XXError"),
    } <= metrics

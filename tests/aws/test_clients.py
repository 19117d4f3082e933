"""Shared plumbing: names from the environment, lazy clients, error codes, provisioning."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from botocore.exceptions import ClientError

from toons.aws import AwsNames, DynamoJobStore, MissingResource, open_ports, wiring
from toons.aws.clients import THROTTLING_CODES, clients_for, translate, use_session
from toons.errors import StoreConflict, Throttled
from toons.model import JobKey


def _client_error(code, message="a message the code is read instead of"):
    return ClientError({"Error": {"Code": code, "Message": message}}, "GetItem")


def _raising(code):
    def call(**_):
        raise _client_error(code)

    return call


def test_importing_the_adapters_does_not_import_boto3():
    code = "import toons.aws, sys; assert 'boto3' not in sys.modules, 'boto3 imported'"

    subprocess.run([sys.executable, "-c", code], check=True)


def test_names_come_from_the_variables_the_wiring_declares():
    env = {
        wiring.table("jobs").env: "p-jobs",
        wiring.table("job-list").env: "p-job-list",
        wiring.queue("work").env: "https://queue/work",
        wiring.BUS_ENV: "p-toons",
    }

    names = AwsNames.from_env(env)

    assert names == AwsNames(
        jobs_table="p-jobs",
        job_list_table="p-job-list",
        work_queue_url="https://queue/work",
        bus_name="p-toons",
    )


def test_a_port_whose_resource_is_not_configured_names_its_variable():
    store = DynamoJobStore(AwsNames())

    with pytest.raises(MissingResource, match=wiring.table("jobs").env):
        store.get(JobKey("alice", "JOB-1"))


def test_reading_a_job_creates_no_sqs_or_events_client(names, session, make_job):
    ports = open_ports(names, session)

    ports.jobs.get(make_job().key)

    assert set(clients_for(session)._clients) == {"dynamodb"}


@pytest.mark.parametrize("code", sorted(THROTTLING_CODES))
def test_throttling_becomes_throttled(jobs, new_key, monkeypatch, code):
    monkeypatch.setattr(jobs.client, "get_item", _raising(code))

    with pytest.raises(Throttled):
        jobs.get(new_key())


def test_a_lost_condition_becomes_store_conflict():
    with pytest.raises(StoreConflict), translate("table t-jobs"):
        raise _client_error("ConditionalCheckFailedException", "throttled, if read by message")


def test_other_client_errors_pass_through_unchanged():
    with pytest.raises(ClientError, match="ValidationException"), translate("table t-jobs"):
        raise _client_error("ValidationException", "ThrottlingException")


def test_a_missing_table_is_a_deployment_error_naming_it(names, session, new_key):
    store = DynamoJobStore(AwsNames(jobs_table="t-no-such-table"), session)

    with pytest.raises(MissingResource, match="t-no-such-table"):
        store.get(new_key())


def test_provisioned_tables_have_the_declared_keys_indexes_and_streams(names, session):
    dynamodb = session.client("dynamodb")

    for table in wiring.TABLES:
        found = dynamodb.describe_table(TableName=f"t-{table.name}")["Table"]
        keys = {k["KeyType"]: k["AttributeName"] for k in found["KeySchema"]}
        types = {a["AttributeName"]: a["AttributeType"] for a in found["AttributeDefinitions"]}
        index_keys = [key for index in table.indexes for key in (index.hash_key, index.range_key)]
        indexes = {i["IndexName"] for i in found.get("GlobalSecondaryIndexes", [])}
        assert keys == {"HASH": table.hash_key[0], "RANGE": table.range_key[0]}
        assert types == dict([table.hash_key, table.range_key, *index_keys])
        assert indexes == {index.name for index in table.indexes}
        assert found.get("StreamSpecification", {}).get("StreamViewType") == table.stream_view


def test_provisioned_work_queue_dead_letters_after_the_declared_receives(names, session):
    sqs = session.client("sqs")
    attributes = sqs.get_queue_attributes(QueueUrl=names.work_queue_url, AttributeNames=["All"])
    dead_letter_arn = sqs.get_queue_attributes(
        QueueUrl=names.dead_letter_queue_url, AttributeNames=["QueueArn"]
    )["Attributes"]["QueueArn"]

    policy = json.loads(attributes["Attributes"]["RedrivePolicy"])

    assert policy["deadLetterTargetArn"] == dead_letter_arn
    assert int(policy["maxReceiveCount"]) == wiring.queue("work").max_receives
    assert attributes["Attributes"]["VisibilityTimeout"] == str(wiring.visibility_timeout_s("work"))


def test_provisioned_names_cover_every_declared_resource(names, session):
    assert names.bus_name == f"t-{wiring.BUS}"
    assert names.completions_stream == f"t-{wiring.STREAMS[0].name}"
    assert all(getattr(names, field) for field in AwsNames.__dataclass_fields__)
    session.client("events").describe_event_bus(Name=names.bus_name)


def test_adapters_built_without_a_session_use_the_one_set_by_use_session(names, session):
    use_session(session)
    try:
        store = DynamoJobStore(names)

        assert store.get(JobKey("alice", "JOB-NONE")) is None
        assert clients_for(None)._session is session
    finally:
        use_session(None)

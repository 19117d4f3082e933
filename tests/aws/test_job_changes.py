"""DynamoDB Streams records of the jobs table become the core's JobChange."""

from __future__ import annotations

import base64

from botocore.config import Config

from toons.aws.dynamo import job_change_from_stream_record, job_item
from toons.model import JobChange, JobStatus

LATER = "2025-01-01T00:00:05.000Z"


def _as_lambda_image(item):
    """An item as Lambda delivers it in a stream event: JSON, so binary is base64 text."""
    return {
        name: {"B": base64.b64encode(value["B"]).decode()} if "B" in value else value
        for name, value in item.items()
    }


def _record(event_name, old=None, new=None):
    images = {"StreamViewType": "NEW_AND_OLD_IMAGES", "SequenceNumber": "1"}
    if old is not None:
        images["OldImage"] = _as_lambda_image(job_item(old))
    if new is not None:
        images["NewImage"] = _as_lambda_image(job_item(new))
    return {"eventName": event_name, "eventSource": "aws:dynamodb", "dynamodb": images}


def test_insert_record_is_a_change_without_an_old_image(make_job):
    job = make_job(3)

    change = job_change_from_stream_record(_record("INSERT", new=job))

    assert change == JobChange(None, job.summary())


def test_modify_record_carries_both_images_with_counts_and_versions(make_job):
    before = make_job(10, status=JobStatus.PROCESSING, version=4)
    after = before.bump(processed_bits=0b1011, failed_bits=0b100, updated_at=LATER)

    change = job_change_from_stream_record(_record("MODIFY", old=before, new=after))

    assert change == JobChange(before.summary(), after.summary())
    assert (change.new.processed, change.new.failed, change.new.version) == (3, 1, 5)


def test_remove_record_is_no_change(make_job):
    assert job_change_from_stream_record(_record("REMOVE", old=make_job())) is None


def test_records_read_from_the_real_stream_give_every_job_write(jobs, stored_job, session):
    job, _ = stored_job(3)
    jobs.finish_fan_out(job.key, LATER)
    processing = jobs.get(job.key)
    done = processing.bump(status=JobStatus.COMPLETED, processed_bits=0b111)
    jobs.save(done, expected_version=processing.version)

    records = _read_stream(session, jobs.names.jobs_table)

    changes = [job_change_from_stream_record(r) for r in records]
    assert changes == [
        JobChange(None, job.summary()),
        JobChange(job.summary(), processing.summary()),
        JobChange(processing.summary(), done.summary()),
    ]


def _read_stream(session, table):
    # botocore routes calls naming a stream ARN to an account endpoint moto does not serve.
    streams = session.client("dynamodbstreams", config=Config(account_id_endpoint_mode="disabled"))
    arn = streams.list_streams(TableName=table)["Streams"][0]["StreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]
    iterator = streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    return streams.get_records(ShardIterator=iterator)["Records"]

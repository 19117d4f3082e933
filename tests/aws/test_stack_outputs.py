"""`--stack S` finds a stack's resources through `pulumi stack output --json`."""

from __future__ import annotations

import json
import os
import stat

import pytest

from toons.aws.operations import StackOperations
from toons.errors import InvalidInput

OUTPUTS = {
    "jobsTable": "toons-dev-jobs",
    "toonsTable": "toons-dev-toons",
    "resultsTable": "toons-dev-results",
    "jobListTable": "toons-dev-job-list",
    "workQueueUrl": "https://sqs/work",
    "parkedQueueUrl": "https://sqs/parked",
    "deadLetterQueueUrl": "https://sqs/dead",
    "streamFailuresQueueUrl": "https://sqs/sf",
    "completionsStream": "toons-dev-completions",
    "busName": "toons-dev-bus",
    "archiveName": "toons-dev-archive",
    "apiEndpoint": "https://api",
}


@pytest.fixture
def fake_pulumi(tmp_path, monkeypatch):
    script = tmp_path / "pulumi"
    script.write_text(
        "#!/bin/sh\n"
        f"[ \"$5\" = dev ] && echo '{json.dumps(OUTPUTS)}' && exit 0\n"
        "echo 'no stack' >&2; exit 255\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")


def test_stack_outputs_name_every_resource(fake_pulumi):
    ops = StackOperations.for_stack("dev")

    assert ops.names.jobs_table == "toons-dev-jobs"
    assert ops.names.parked_queue_url == "https://sqs/parked"
    assert ops.names.bus_name == "toons-dev-bus"
    assert ops.archive_name == "toons-dev-archive"


def test_an_unknown_stack_is_a_clear_error(fake_pulumi):
    with pytest.raises(InvalidInput, match="could not read the outputs of stack 'prod'"):
        StackOperations.for_stack("prod")

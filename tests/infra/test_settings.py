"""Stack settings: defaults from wiring, overrides from the stack, refusals with the key."""

from __future__ import annotations

import json
import re

import pulumi
import pytest
import yaml

from infra import settings
from tests.infra.harness import JWT_SECRET, REPO, STACKS
from toons.aws import wiring


def _load(**values: object) -> settings.Settings:
    config = {f"toons:{k}": v if isinstance(v, str) else json.dumps(v) for k, v in values.items()}
    pulumi.runtime.set_all_config({"toons:jwtSecret": JWT_SECRET, **config}, ["toons:jwtSecret"])
    return settings.load(pulumi.Config("toons"), stack="test")


def test_an_empty_stack_takes_its_sizes_and_batches_from_wiring():
    loaded = _load()

    for fn in wiring.FUNCTIONS:
        assert loaded.functions[fn.name] == settings.FunctionSettings(fn.memory_mb, fn.timeout_s)
        assert loaded.sources.get(fn.name) == fn.source
    assert loaded.max_receives == wiring.queue("work").max_receives


def test_an_empty_stack_is_the_cheap_one():
    loaded = _load()

    assert loaded.kinesis_mode == "PROVISIONED"
    assert loaded.kinesis_shards == 1
    assert loaded.point_in_time_recovery is False


def test_a_stack_overrides_one_function_and_keeps_the_rest():
    loaded = _load(functions={"worker": {"memoryMb": 2048}})

    worker = wiring.function("worker")
    assert loaded.functions["worker"] == settings.FunctionSettings(2048, worker.timeout_s)


def test_worker_overrides_change_only_the_worker_source():
    loaded = _load(workerBatchSize=50, workerBatchWindowS=5, workerMaxConcurrency=100)

    assert loaded.sources["worker"] == wiring.SqsSource("work", 50, 5, 100)
    assert loaded.sources["dead-letter"] == wiring.function("dead-letter").source


@pytest.mark.parametrize(
    ("values", "key"),
    [
        ({"functions": {"wroker": {"memoryMb": 1024}}}, "functions"),
        ({"functions": {"worker": {"memory": 1024}}}, "functions.worker"),
        ({"functions": {"worker": {"timeoutS": 901}}}, "functions.worker.timeoutS"),
        ({"kinesisMode": "SOMETIMES"}, "kinesisMode"),
        ({"logRetentionDays": 10}, "logRetentionDays"),
        ({"workerBatchSize": 100, "workerBatchWindowS": 0}, "workerBatchWindowS"),
        ({"workerMaxConcurrency": 1}, "workerMaxConcurrency"),
        ({"secretRecoveryWindowDays": 3}, "secretRecoveryWindowDays"),
        ({"alarmPeriodS": 45}, "alarmPeriodS"),
    ],
)
def test_a_bad_value_is_refused_naming_its_key(values, key):
    with pytest.raises(settings.SettingsError, match=rf"toons:{re.escape(key)} must be"):
        _load(**values)


def test_the_jwt_secret_is_required():
    pulumi.runtime.set_all_config({})

    with pytest.raises(pulumi.ConfigMissingError):
        settings.load(pulumi.Config("toons"), stack="test")


def test_physical_names_carry_project_and_stack():
    assert _load().physical("work") == "toons-test-work"


@pytest.mark.parametrize("stack", STACKS)
def test_stack_files_use_only_known_keys(stack):
    document = yaml.safe_load((REPO / f"Pulumi.{stack}.yaml").read_text())
    ours = {k.split(":", 1)[1] for k in document["config"] if k.startswith("toons:")}

    assert ours <= set(settings.KEYS)


def test_every_key_is_documented_in_deploy_docs():
    docs = (REPO / "docs" / "deploy.md").read_text()

    assert [k for k in settings.KEYS if f"toons:{k}" not in docs] == []

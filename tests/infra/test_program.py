"""The program as a whole: exports, components, names."""

from __future__ import annotations

import re

EXPORTS = {
    "apiEndpoint",
    "busName",
    "archiveName",
    "jobsTable",
    "resultsTable",
    "toonsTable",
    "jobListTable",
    "workQueueUrl",
    "deadLetterQueueUrl",
    "parkedQueueUrl",
    "completionsStream",
    "statusTopicArn",
    "alarmTopicArn",
}
COMPONENTS = {
    "toons:infra:Storage",
    "toons:infra:Auth",
    "toons:infra:Pipeline",
    "toons:infra:Functions",
    "toons:infra:Api",
    "toons:infra:Observability",
}
KEBAB = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")


def test_the_stack_exports_what_operators_and_tools_read(deployment):
    assert set(deployment.outputs) >= EXPORTS
    assert all(deployment.outputs[name] for name in EXPORTS)


def test_exports_name_this_stack_resources(deployment):
    outputs = deployment.outputs

    assert outputs["jobsTable"] == f"toons-{deployment.stack}-jobs"
    assert outputs["jobListTable"] == f"toons-{deployment.stack}-job-list"
    assert outputs["workQueueUrl"].endswith(f"/toons-{deployment.stack}-work")
    assert outputs["statusTopicArn"].endswith(f":toons-{deployment.stack}-job-status")
    assert outputs["busName"] == f"toons-{deployment.stack}-bus"


def test_the_map_is_one_component_per_concern(deployment):
    top = {r.type for r in deployment.resources if r.parent_types == ["pulumi:pulumi:Stack"]}

    assert top == COMPONENTS


def test_every_cloud_resource_belongs_to_a_component(deployment):
    for resource in deployment.resources:
        if resource.custom:
            assert resource.parent_types[-1].startswith("toons:infra:"), resource.name


def test_logical_names_are_kebab_case(deployment):
    assert [r.name for r in deployment.resources if not KEBAB.fullmatch(r.name)] == []


def test_physical_names_carry_the_stack(deployment):
    named = [
        r.inputs["name"] for r in deployment.resources if isinstance(r.inputs.get("name"), str)
    ]

    assert named
    for name in named:
        assert f"toons-{deployment.stack}-" in name, name


def test_a_missing_code_asset_is_a_warning_so_tests_run_without_a_build(deployment):
    asset = deployment.settings.code_asset

    assert asset.is_file() or any("python -m infra.package" in w for w in deployment.warnings)

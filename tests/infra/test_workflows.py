"""The delivery pipeline: workflows that parse and only name what exists."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
import yaml

from tests.infra.harness import REPO

WORKFLOWS = REPO / ".github" / "workflows"


def _load(name: str) -> dict:
    document = yaml.safe_load((WORKFLOWS / name).read_text())
    # YAML 1.1 reads the bare key `on` as True.
    document["on"] = document.pop(True, document.get("on"))
    return document


def _commands(document: dict) -> list[str]:
    return [
        line.strip()
        for job in document["jobs"].values()
        for step in job["steps"]
        for line in step.get("run", "").splitlines()
        if line.strip()
    ]


def _uses(document: dict) -> list[str]:
    return [
        step["uses"] for job in document["jobs"].values() for step in job["steps"] if "uses" in step
    ]


@pytest.fixture(scope="module", params=["ci.yml", "deploy.yml"])
def workflow(request) -> dict:
    return _load(request.param)


def test_both_workflows_parse_into_jobs_with_steps(workflow):
    assert workflow["jobs"]
    assert all(job["steps"] for job in workflow["jobs"].values())


def test_every_stack_a_workflow_names_has_its_stack_file(workflow):
    stacks = [s for c in _commands(workflow) for s in re.findall(r"--stack (\S+)", c)]

    assert stacks
    assert [s for s in stacks if not (REPO / f"Pulumi.{s}.yaml").is_file()] == []


def test_every_python_module_a_workflow_runs_is_in_the_repo(workflow):
    modules = [m for c in _commands(workflow) for m in re.findall(r"python -m (\S+)", c)]

    for module in modules:
        path = REPO / Path(*module.split("."))
        assert path.with_suffix(".py").is_file() or (path / "__main__.py").is_file(), module


def test_every_extra_a_workflow_installs_is_declared(workflow):
    extras = set(
        tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    )
    installed = [e for c in _commands(workflow) for e in re.findall(r"\.\[(\w+)\]", c)]

    assert installed
    assert set(installed) <= extras


def test_ci_checks_pull_requests_then_previews_dev():
    ci = _load("ci.yml")
    commands = _commands(ci)

    assert "pull_request" in ci["on"]
    assert {"ruff check .", "pytest", "python -m infra.package build/lambda.zip"} <= set(commands)
    assert "pulumi preview --stack dev --diff" in commands
    assert any(u.startswith("pulumi/actions@") for u in _uses(ci))


def test_deploy_runs_on_main_and_promotes_dev_then_staging_then_prod():
    deploy = _load("deploy.yml")
    jobs = deploy["jobs"]

    assert deploy["on"] == {"push": {"branches": ["main"]}}
    assert jobs["dev"]["needs"] == "build"
    assert jobs["build"]["needs"] == "test"
    assert jobs["staging"]["needs"] == "dev"
    assert jobs["prod"]["needs"] == "staging"
    for stage in ("dev", "staging", "prod"):
        assert jobs[stage]["environment"] == stage
        assert f"pulumi up --stack {stage} --yes" in _commands({"jobs": {stage: jobs[stage]}})


def test_deploy_jobs_assume_aws_roles_through_oidc_and_use_the_pulumi_token():
    jobs = _load("deploy.yml")["jobs"]

    for stage in ("dev", "staging", "prod"):
        job = jobs[stage]
        steps = {step.get("uses", "").split("@")[0]: step for step in job["steps"]}
        pulumi_step = next(s for s in job["steps"] if "pulumi up" in s.get("run", ""))

        assert job["permissions"]["id-token"] == "write"
        assert "role-to-assume" in steps["aws-actions/configure-aws-credentials"]["with"]
        assert pulumi_step["env"]["PULUMI_ACCESS_TOKEN"] == "${{ secrets.PULUMI_ACCESS_TOKEN }}"


def test_every_stage_deploys_the_same_built_asset():
    jobs = _load("deploy.yml")["jobs"]
    uploaded = next(s for s in jobs["build"]["steps"] if "upload-artifact" in s.get("uses", ""))

    for stage in ("dev", "staging", "prod"):
        downloaded = next(
            s for s in jobs[stage]["steps"] if "download-artifact" in s.get("uses", "")
        )
        assert downloaded["with"]["name"] == uploaded["with"]["name"]
        assert f"{downloaded['with']['path']}/lambda.zip" == uploaded["with"]["path"]

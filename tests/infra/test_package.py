"""The code asset: same tree, same bytes; only what the functions import."""

from __future__ import annotations

import subprocess
import zipfile
from pathlib import Path

import pytest

from infra import package
from tests.infra.harness import REPO
from toons.aws import wiring


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A tiny project: two packages, with the litter a checkout collects."""
    root = tmp_path / "src"
    for name, text in {
        "toons/__init__.py": '__version__ = "1"\n',
        "toons/aws/wiring.py": "BUS = 'toons'\n",
        "toons/__pycache__/wiring.cpython-312.pyc": "bytecode",
        "toons/stale.pyc": "bytecode",
        "handlers/__init__.py": "",
        "handlers/worker.py": "def handler(event, context):\n    return {}\n",
        "unrelated/notes.txt": "not shipped",
    }.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def fake_install(target: Path) -> None:
    """What pip --target leaves behind, without the network."""
    (target / "jwt").mkdir()
    (target / "jwt" / "__init__.py").write_text("# PyJWT\n")
    (target / "jwt" / "__pycache__").mkdir()
    (target / "jwt" / "__pycache__" / "api.cpython-312.pyc").write_text("bytecode")
    (target / "PyJWT-2.10.1.dist-info").mkdir()
    (target / "PyJWT-2.10.1.dist-info" / "METADATA").write_text("Name: PyJWT\n")
    (target / "bin").mkdir()
    (target / "bin" / "jwt").write_text("#!/usr/bin/env python\n")


def _names(path: Path) -> list[str]:
    with zipfile.ZipFile(path) as archive:
        return archive.namelist()


def test_two_builds_of_the_same_tree_are_byte_for_byte_equal(tree, tmp_path):
    first = package.build(tmp_path / "a" / "lambda.zip", source_root=tree, install=fake_install)
    (tree / "toons" / "__init__.py").touch()  # a newer mtime changes nothing
    second = package.build(tmp_path / "b" / "lambda.zip", source_root=tree, install=fake_install)

    assert first.read_bytes() == second.read_bytes()


def test_the_zip_holds_both_packages_and_the_dependencies_and_nothing_else(tree, tmp_path):
    built = package.build(tmp_path / "lambda.zip", source_root=tree, install=fake_install)

    assert _names(built) == [
        "PyJWT-2.10.1.dist-info/METADATA",
        "handlers/__init__.py",
        "handlers/worker.py",
        "jwt/__init__.py",
        "toons/__init__.py",
        "toons/aws/wiring.py",
    ]


def test_entries_carry_a_fixed_time_and_mode(tree, tmp_path):
    built = package.build(tmp_path / "lambda.zip", source_root=tree, install=None)

    with zipfile.ZipFile(built) as archive:
        infos = archive.infolist()
    assert {info.date_time for info in infos} == {package.FIXED_TIME}
    assert {info.external_attr >> 16 for info in infos} == {0o644}
    assert [i.filename for i in infos] == sorted(i.filename for i in infos)


def test_a_missing_package_is_refused_before_anything_is_written(tree, tmp_path):
    output = tmp_path / "lambda.zip"

    (tree / "handlers" / "__init__.py").unlink()

    with pytest.raises(FileNotFoundError, match="handlers"):
        package.build(output, source_root=tree, install=None)
    assert not output.exists()


def test_pip_installs_for_lambda_arm64_python_312_without_bytecode(monkeypatch, tmp_path):
    calls = []
    monkeypatch.setattr(subprocess, "run", lambda argv, check: calls.append(argv))

    package.pip_install(tmp_path)

    (argv,) = calls
    assert argv[1:4] == ["-m", "pip", "install"]
    for flag in (
        "--target",
        str(tmp_path),
        "--platform",
        "manylinux2014_aarch64",
        "--only-binary=:all:",
        "--implementation",
        "cp",
        "--python-version",
        "3.12",
        "--no-compile",
    ):
        assert flag in argv
    assert {a.split("==")[0] for a in argv if a.split("==")[0] in package.DEPENDENCIES} == set(
        package.DEPENDENCIES
    )


def test_dependencies_are_pinned_to_the_versions_tests_run_against():
    assert all("==" in requirement for requirement in package.requirements())


def test_the_command_builds_the_zip_and_prints_its_path(tree, tmp_path, capsys):
    output = tmp_path / "build" / "lambda.zip"

    assert package.main([str(output), "--source-root", str(tree), "--no-deps"]) == 0
    assert capsys.readouterr().out.strip() == str(output)
    assert "handlers/worker.py" in _names(output)


def test_the_command_explains_a_missing_package(tree, tmp_path, capsys):
    (tree / "handlers" / "__init__.py").unlink()

    assert package.main([str(tmp_path / "x.zip"), "--source-root", str(tree), "--no-deps"]) == 1
    assert "handlers" in capsys.readouterr().err


@pytest.mark.skipif(
    not (REPO / "handlers" / "__init__.py").is_file(), reason="handlers/ not written yet"
)
def test_every_handler_wiring_names_is_shipped(tmp_path):
    names = set(_names(package.build(tmp_path / "lambda.zip", install=None)))

    for fn in wiring.FUNCTIONS:
        module = fn.handler.rpartition(".")[0]
        assert module.replace(".", "/") + ".py" in names, fn.handler

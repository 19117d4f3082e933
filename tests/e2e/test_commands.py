"""The `toons` command as a user meets it: the banner, the secret, `toons token`."""

from __future__ import annotations

import stat
import subprocess
import sys

from toons.client import Client


def test_local_prints_url_token_and_a_curl_line(local):
    local.start()

    banner = "".join(local.output)

    assert f"toons local listening on {local.url}" in banner
    assert "export TOKEN=" in banner
    assert f"curl -s -X POST {local.url}/submit-job" in banner


def test_banner_token_is_accepted(local):
    local.start()
    token = next(
        line.split("=", 1)[1].strip() for line in local.output if line.startswith("export TOKEN=")
    )

    assert Client(local.url, token).jobs().status == 200


def test_without_an_env_secret_one_is_generated_with_private_permissions(tmp_path):
    from toons.local.launcher import LocalProcess

    process = LocalProcess(tmp_path / "data", secret_in_env=False).start()
    try:
        secret_file = tmp_path / "data" / "jwt-secret"
        assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
        assert len(secret_file.read_text().strip()) >= 32
    finally:
        process.kill()


def test_token_command_mints_tokens_the_server_accepts(tmp_path):
    from toons.local.launcher import LocalProcess

    process = LocalProcess(tmp_path / "data", secret_in_env=False).start()
    try:
        token = subprocess.run(
            [
                sys.executable,
                "-m",
                "toons.cli",
                "token",
                "--sub",
                "carol",
                "--ttl",
                "10m",
                "--data-dir",
                str(tmp_path / "data"),
            ],
            env=process.env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()

        reply = Client(process.url, token).jobs()
    finally:
        process.kill()

    assert reply.status == 200


def test_token_command_rejects_a_bad_ttl(tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "toons.cli",
            "token",
            "--sub",
            "x",
            "--ttl",
            "soon",
            "--data-dir",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
    )

    assert result.returncode == 2
    assert "not a duration" in result.stderr


def test_a_second_engine_on_the_same_data_dir_is_refused(local):
    local.start()

    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "toons.cli",
            "local",
            "--port",
            "0",
            "--data-dir",
            str(local.data_dir),
        ],
        env=local.env,
        capture_output=True,
        text=True,
        timeout=30,
    )

    assert result.returncode == 1
    assert "another toons local is running" in result.stderr

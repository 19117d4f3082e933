"""Start `toons local` as a child process and talk to it: for benchmarks and tests."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import threading
from pathlib import Path

from toons import auth
from toons.client import Client
from toons.local.engine import SECRET_FILE

READY = "toons local listening on "


class LocalProcess:
    """A `toons local` child on a free port, with its own data dir and secret."""

    def __init__(
        self,
        data_dir: Path,
        workers: int | None = None,
        env: dict[str, str] | None = None,
        secret_in_env: bool = True,
    ) -> None:
        self.data_dir = Path(data_dir)
        self.workers = workers
        self.env = {k: v for k, v in os.environ.items() if k != "TOONS_JWT_SECRET"}
        self.env.update(env or {})
        self.secret = secrets.token_urlsafe(32) if secret_in_env else None
        if self.secret:
            self.env["TOONS_JWT_SECRET"] = self.secret
        self.proc: subprocess.Popen[str] | None = None
        self.url = ""
        self.output: list[str] = []

    def start(self, timeout_s: float = 30) -> LocalProcess:
        """Start the child and wait until it listens."""
        cmd = [
            sys.executable,
            "-m",
            "toons.cli",
            "local",
            "--port",
            "0",
            "--data-dir",
            str(self.data_dir),
            "--log-level",
            "WARNING",
        ]
        if self.workers:
            cmd += ["--workers", str(self.workers)]
        self.proc = subprocess.Popen(
            cmd,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        self.url = self._await_ready(timeout_s)
        threading.Thread(target=self._drain, daemon=True).start()
        return self

    def _await_ready(self, timeout_s: float) -> str:
        timer = threading.Timer(timeout_s, self.kill)
        timer.start()
        try:
            for line in self.proc.stdout:
                self.output.append(line)
                if line.startswith(READY):
                    return line[len(READY) :].strip()
        finally:
            timer.cancel()
        raise RuntimeError("toons local exited before listening:\n" + "".join(self.output))

    def _drain(self) -> None:
        for line in self.proc.stdout:
            self.output.append(line)

    def token(self, subject: str = "user123", ttl_s: float = 3600) -> str:
        """A token this child accepts (signed with the data dir's secret if none was set)."""
        secret = self.secret or (self.data_dir / SECRET_FILE).read_text().strip()
        return auth.mint(subject, secret, ttl_s)

    def client(self, subject: str = "user123") -> Client:
        """A client speaking for `subject`."""
        return Client(self.url, self.token(subject))

    def stop(self, timeout_s: float = 20) -> int:
        """SIGTERM, then wait for a clean exit; returns the exit code."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout_s) if self.proc else 0

    def kill(self) -> None:
        """SIGKILL the whole process group, as a crash would."""
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def __enter__(self) -> LocalProcess:
        return self.start()

    def __exit__(self, *_: object) -> None:
        try:
            self.stop()
        finally:
            self.kill()

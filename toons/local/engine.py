"""`toons local`: the whole system in one process tree on one SQLite file.

The main process serves HTTP and runs the aggregator, projector and dead-letter loops
as threads; the CPU-bound toon work runs in worker processes (one per core by default),
each reading the queue directly. A stop request (Ctrl-C, SIGTERM) lets every loop finish
its step; a `kill -9` loses nothing, because each step commits its effects before it
consumes its input, and start-up resumes any fan-out a crash interrupted.
"""

from __future__ import annotations

import fcntl
import logging
import multiprocessing
import os
import secrets
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from toons.api import Api
from toons.config import AuthSettings, EngineSettings, Limits
from toons.local.loops import Steps, database_path, run_loop, worker_process
from toons.local.server import LocalServer
from toons.service import ToonService
from toons.sqlite import open_ports

log = logging.getLogger(__name__)

SECRET_FILE = "jwt-secret"
LOCK_FILE = "engine.lock"


def jwt_secret(data_dir: Path) -> str:
    """`TOONS_JWT_SECRET`, else the secret kept in the data dir (created, mode 0600)."""
    from_env = os.environ.get("TOONS_JWT_SECRET")
    if from_env:
        return from_env
    path = data_dir / SECRET_FILE
    data_dir.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


class DataDirBusy(RuntimeError):
    """Another `toons local` already runs on this data dir."""


def lock_data_dir(data_dir: Path) -> IO[str]:
    """Hold an exclusive lock on the data dir for this process's life.

    Start-up recovery treats every in-flight toon as abandoned, which is only true when
    no other engine works on the same file. The lock dies with the process, `kill -9`
    included.
    """
    data_dir.mkdir(parents=True, exist_ok=True)
    handle = open(data_dir / LOCK_FILE, "w")  # noqa: SIM115 - held open until exit
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise DataDirBusy(f"another toons local is running on {data_dir}") from None
    return handle


@dataclass
class LocalEngine:
    """Starts and stops the embedded engine's server, loops and workers."""

    settings: EngineSettings
    auth: AuthSettings
    limits: Limits = field(default_factory=Limits)
    host: str = "127.0.0.1"
    port: int = 8000
    stop_event: threading.Event = field(default_factory=threading.Event)

    def start(self) -> LocalServer:
        """Start everything; returns the server (its `url` says where it listens)."""
        self._lock = lock_data_dir(self.settings.data_dir)
        steps = Steps.open(self.settings, self.limits)
        recovered = steps.recover()
        if any(recovered.values()):
            log.info("recovered after an unclean stop", extra=recovered)

        self._start_workers()
        self._threads = [
            threading.Thread(
                target=run_loop, args=(name, step, self.stop_event), name=name, daemon=True
            )
            for name, step in (
                ("aggregator", steps.aggregate),
                ("projector", steps.project),
                ("dead-letters", steps.dead_letters),
                ("supervisor", self._replace_dead_workers),
            )
        ]
        self.server = self._server()
        self._threads.append(
            threading.Thread(target=self.server.serve_forever, name="http", daemon=True)
        )
        for thread in self._threads:
            thread.start()
        return self.server

    def _server(self) -> LocalServer:
        # Submits are acknowledged with 202 only once durable, even across a power cut.
        ports = open_ports(database_path(self.settings), synchronous="FULL")
        return LocalServer(self.host, self.port, Api(ToonService(ports, self.limits), self.auth))

    def _start_workers(self) -> None:
        self._context = multiprocessing.get_context("spawn")
        self._worker_stop = self._context.Event()
        self._workers = [self._worker(n) for n in range(self.settings.workers)]

    def _worker(self, number: int) -> multiprocessing.process.BaseProcess:
        worker = self._context.Process(
            target=worker_process,
            args=(self.settings, self.limits, self._worker_stop, os.getpid()),
            name=f"toons-worker-{number}",
            daemon=True,
        )
        worker.start()
        return worker

    def _replace_dead_workers(self) -> bool:
        """Start a new worker for each one that died; whether any was replaced.

        The dead worker's toons come back to the queue after the visibility timeout.
        """
        if self.stop_event.is_set():
            return False
        dead = [n for n, worker in enumerate(self._workers) if not worker.is_alive()]
        for number in dead:
            log.warning(
                "worker died; starting another",
                extra={"worker": number, "exitcode": self._workers[number].exitcode},
            )
            self._workers[number] = self._worker(number)
        return bool(dead)

    def stop(self, timeout_s: float = 10.0) -> None:
        """Stop accepting requests, let every loop finish its step, then return."""
        self.stop_event.set()
        self._worker_stop.set()
        self.server.shutdown()
        self.server.server_close()
        for thread in self._threads:
            thread.join(timeout_s)
        for worker in self._workers:
            worker.join(timeout_s)
            if worker.is_alive():
                worker.terminate()

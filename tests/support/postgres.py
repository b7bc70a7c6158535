"""A throwaway PostgreSQL cluster for tests.

Not a conftest: fixtures import it.

    from tests.support.postgres import PostgresCluster, require_postgres

    @pytest.fixture(scope="session")
    def pg_cluster():
        require_postgres()
        with PostgresCluster() as cluster:
            yield cluster

    url = pg_cluster.url(pg_cluster.create_database("store_1"))

The cluster lives in a temp dir (data dir, socket dir and log), listens on 127.0.0.1 at a
random free port with `trust` authentication and no durability (fsync off): it is fast and
disposable. `stop()` kills it (`pg_ctl stop -m immediate`) and removes the dir.

PostgreSQL refuses to run as root, so when the tests run as root the binaries run as the
`postgres` system user through `runuser`, and the temp dir is chowned to that user.
Otherwise they run directly as the current user.

Environment:
- `CHARLA_PG_BINDIR`: the dir holding `initdb`, `pg_ctl`, `postgres` and `psql`; by default
  the newest `/usr/lib/postgresql/*/bin`, else whatever `initdb` is on PATH.
- `CI=true`: `require_postgres()` fails instead of skipping when PostgreSQL is missing.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import glob
import os
import pwd
import re
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Self

from tests.support.harness import free_port

PG_USER = "postgres"
_BINARIES = ("initdb", "pg_ctl", "postgres", "psql")
_DBNAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_START_TRIES = 3


def _version_key(bindir: str) -> tuple[int, ...]:
    version = Path(bindir).parent.name
    return tuple(int(part) for part in re.findall(r"\d+", version)) or (0,)


def find_bindir() -> Path | None:
    """The dir holding the PostgreSQL server binaries, or None."""
    override = os.environ.get("CHARLA_PG_BINDIR")
    if override:
        return Path(override)
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_version_key, reverse=True)
    for candidate in candidates:
        if all(os.access(os.path.join(candidate, name), os.X_OK) for name in _BINARIES):
            return Path(candidate)
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _running_as_root() -> bool:
    return os.geteuid() == 0


@functools.cache
def postgres_available() -> str | None:
    """None when a throwaway cluster can be started here, else the reason it cannot."""
    bindir = find_bindir()
    if bindir is None:
        return (
            "PostgreSQL server binaries not found (no /usr/lib/postgresql/*/bin, no initdb "
            "on PATH); install Debian's `postgresql` package or set CHARLA_PG_BINDIR"
        )
    missing = [name for name in _BINARIES if not os.access(bindir / name, os.X_OK)]
    if missing:
        return f"PostgreSQL binaries missing from {bindir}: {', '.join(missing)}"
    if _running_as_root():
        try:
            pwd.getpwnam(PG_USER)
        except KeyError:
            return f"running as root but there is no {PG_USER!r} user to run PostgreSQL as"
        if shutil.which("runuser") is None:
            return "running as root but `runuser` is not on PATH"
    try:
        subprocess.run(
            [str(bindir / "postgres"), "--version"],
            check=True,
            capture_output=True,
            timeout=30,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        return f"{bindir / 'postgres'} --version failed: {exc}"
    return None


def require_postgres() -> None:
    """Skip the calling test (or fixture) when PostgreSQL is unavailable; fail under CI."""
    from tests.support.tools import missing  # noqa: PLC0415  (it imports pytest: bench does not)

    reason = postgres_available()
    if reason is None:
        return
    missing("PostgreSQL", reason)


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


class PostgresCluster:
    """A disposable PostgreSQL cluster: `start()` / `stop()`, or `with PostgresCluster():`."""

    def __init__(self, base_dir: str | os.PathLike[str] | None = None) -> None:
        self.bindir = find_bindir()
        self.base_dir = Path(base_dir) if base_dir is not None else None
        self.root: Path | None = None
        self.port: int | None = None
        self.start_seconds: float | None = None
        self._as_postgres = _running_as_root()

    # -- paths -----------------------------------------------------------------------------
    @property
    def data_dir(self) -> Path:
        return self._root() / "data"

    @property
    def socket_dir(self) -> Path:
        return self._root() / "sock"

    @property
    def log_file(self) -> Path:
        return self._root() / "postgres.log"

    def _root(self) -> Path:
        if self.root is None:
            raise RuntimeError("the cluster is not started")
        return self.root

    # -- lifecycle -------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self.root is not None and self.port is not None

    def start(self) -> Self:
        if self.running:
            return self
        reason = postgres_available()
        if reason is not None:
            raise RuntimeError(reason)
        started = time.monotonic()
        self.root = self._make_root()
        atexit.register(self.stop)
        try:
            self._run(
                "initdb",
                "-D", str(self.data_dir),
                "-U", PG_USER,
                "--auth=trust",
                "-E", "UTF8",
                "--no-locale",
                "--no-sync",
                "--no-instructions",
            )  # fmt: skip
            for attempt in range(_START_TRIES):
                port = free_port()
                try:
                    self._pg_ctl_start(port)
                except RuntimeError:
                    # Another process may have taken the port between probe and bind.
                    if attempt == _START_TRIES - 1 or "could not bind" not in _tail(self.log_file):
                        raise
                    continue
                self.port = port
                break
        except BaseException:
            self.stop()
            raise
        self.start_seconds = time.monotonic() - started
        return self

    def stop(self) -> None:
        """Kill the server (immediate mode) and remove every file of the cluster."""
        root, self.root, self.port = self.root, None, None
        atexit.unregister(self.stop)
        if root is None:
            return
        data_dir = root / "data"
        if (data_dir / "postmaster.pid").exists():
            stop_args = ["stop", "-D", str(data_dir), "-m", "immediate", "-w", "-t", "30"]
            stopped = False
            with contextlib.suppress(OSError, subprocess.SubprocessError):
                stopped = self._run("pg_ctl", *stop_args, check=False, cwd=root) == 0
            if not stopped:
                self._kill_leftover(data_dir)
        shutil.rmtree(root, ignore_errors=True)

    def pause(self) -> None:
        """Stop the server, closing every connection, but keep its data and port: an outage.

        `fast`, not `immediate`: this cluster runs with synchronous_commit=off for speed, so an
        immediate stop could drop commits the hub was told were durable.
        """
        self._run("pg_ctl", "stop", "-D", str(self.data_dir), "-m", "fast", "-w", "-t", "30")

    def resume(self) -> None:
        """Start the paused server again on the same port."""
        self._pg_ctl_start(self._port())

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- databases -------------------------------------------------------------------------
    def url(self, dbname: str = "postgres") -> str:
        """SQLAlchemy async URL of one database of the cluster."""
        return f"postgresql+asyncpg://{PG_USER}@127.0.0.1:{self._port()}/{dbname}"

    def dsn(self, dbname: str = "postgres") -> str:
        """libpq / plain asyncpg DSN of one database of the cluster."""
        return f"postgresql://{PG_USER}@127.0.0.1:{self._port()}/{dbname}"

    def create_database(self, name: str) -> str:
        """Create an empty database and return its name."""
        self._psql(f'CREATE DATABASE "{_check_dbname(name)}"')
        return name

    def drop_database(self, name: str) -> None:
        self._psql(f'DROP DATABASE IF EXISTS "{_check_dbname(name)}" WITH (FORCE)')

    def _port(self) -> int:
        if self.port is None:
            raise RuntimeError("the cluster is not started")
        return self.port

    # -- internals -------------------------------------------------------------------------
    def _make_root(self) -> Path:
        base = self.base_dir
        if base is None and self._as_postgres:
            # The postgres user must be able to reach the dir: a root-only TMPDIR won't do.
            base = Path(tempfile.gettempdir())
            if not _traversable_by_others(base):
                base = Path("/tmp")
        root = Path(tempfile.mkdtemp(prefix="charla-pg-", dir=base))
        (root / "sock").mkdir()
        if self._as_postgres:
            pg = pwd.getpwnam(PG_USER)
            for path in (root, root / "sock"):
                os.chown(path, pg.pw_uid, pg.pw_gid)
        return root

    def _pg_ctl_start(self, port: int) -> None:
        options = (
            f"-c listen_addresses=127.0.0.1 -p {port} -k {self.socket_dir} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        self._run(
            "pg_ctl", "start", "-w", "-t", "60",
            "-D", str(self.data_dir),
            "-l", str(self.log_file),
            "-o", options,
        )  # fmt: skip

    def _psql(self, sql: str) -> None:
        # psql connects over TCP with trust auth, so any OS user may run it.
        cmd = [
            str(self._bindir() / "psql"),
            "-X", "-q", "-v", "ON_ERROR_STOP=1",
            "-h", "127.0.0.1", "-p", str(self._port()), "-U", PG_USER, "-d", "postgres",
            "-c", sql,
        ]  # fmt: skip
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False)
        if result.returncode != 0:
            raise RuntimeError(f"psql failed ({sql}): {result.stderr.strip()}")

    def _bindir(self) -> Path:
        if self.bindir is None:
            raise RuntimeError("PostgreSQL binaries not found")
        return self.bindir

    def _run(self, binary: str, *args: str, check: bool = True, cwd: Path | None = None) -> int:
        cmd = [str(self._bindir() / binary), *args]
        if self._as_postgres:
            cmd = ["runuser", "-u", PG_USER, "--", *cmd]
        result = subprocess.run(
            cmd,
            cwd=cwd or self._root(),  # the postgres user may not reach our cwd
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            env={**os.environ, "LC_ALL": "C", "PGTZ": "UTC"},
        )
        if check and result.returncode != 0:
            raise RuntimeError(
                f"{binary} exited {result.returncode}: {result.stderr.strip()}\n"
                f"--- server log ---\n{_tail(self.log_file)}"
            )
        return result.returncode

    @staticmethod
    def _kill_leftover(data_dir: Path) -> None:
        try:
            pid = int((data_dir / "postmaster.pid").read_text().split("\n", 1)[0])
        except (OSError, ValueError):
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)


def _check_dbname(name: str) -> str:
    if not _DBNAME.match(name):
        raise ValueError(f"invalid database name {name!r}: use [a-z_][a-z0-9_]*, at most 63")
    return name


def _traversable_by_others(path: Path) -> bool:
    path = path.resolve()
    return all(os.stat(p).st_mode & 0o001 for p in (path, *path.parents))

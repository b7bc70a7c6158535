"""Instructions a hub executes per visitor message, under valgrind's callgrind: a measure
that the machine's speed does not move, to compare two versions of the code.

On the 2-core test machine the speed drifts by 10-15% within minutes, and two identical
deployments measured in alternating rounds differed by as much (0.85-0.96 in one run), so
a change worth 5% cannot be seen in messages per second. Callgrind counts instructions
instead (docs/performance.md, "late").

For each source tree given, it starts one `charla serve` from that tree under callgrind
(in-process fan-out, a throwaway PostgreSQL, its own Redis), connects one agent and
`--visitors` visitors with a chat each, then zeroes the counters, has the visitors send
`--messages` messages (each as soon as its previous one is acknowledged), and dumps the
counters; then zeroes them again for an idle window as long as the sending took, so that
what the hub does on its own (heartbeats, timers) is taken out:

    per message = (instructions while sending - instructions idle) / messages

Instructions are not time (cache misses, system calls and the database's own work are not
in them), and the writer's batches vary in size from run to run, so differences under ~3%
are not to be trusted. A run takes ~2.5 minutes per tree (the hub starts ~50 times slower).

Run (from the repository root; needs valgrind):
    .venv/bin/python -m bench.instructions /path/to/older/checkout .
"""

from __future__ import annotations

import argparse
import asyncio
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.scale import Charla
from tests.cluster import HubProcess, free_port
from tests.postgres import PostgresCluster

START_TIMEOUT_S = 600  # a hub under callgrind takes minutes to import and start


class CallgrindHub(HubProcess):
    """`charla serve` from `tree`, under callgrind, its counters dumped on demand."""

    def __init__(self, hub: HubProcess, tree: Path, out: Path) -> None:
        self.__dict__.update(hub.__dict__)
        self.tree = tree
        self.out = out

    def spawn(self) -> CallgrindHub:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        command = [
            "valgrind",
            "--tool=callgrind",
            f"--callgrind-out-file={self.out}",
            sys.executable,
            "-m",
            "console",
            "serve",
        ]
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                command,
                env=self.environment(),
                cwd=self.tree,  # the tree's `console` comes first on sys.path
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        return self

    def wait_ready(self, timeout_s: float = START_TIMEOUT_S) -> CallgrindHub:
        super().wait_ready(max(timeout_s, START_TIMEOUT_S))
        return self

    def control(self, flag: str) -> None:
        """callgrind_control -z (zero the counters) or -d (dump them to out.N)."""
        assert self.process is not None
        subprocess.run(
            ["callgrind_control", flag, str(self.process.pid)],
            check=True,
            capture_output=True,
            timeout=120,
        )

    def dumped(self, n: int) -> int:
        """Instructions in the n-th dump."""
        path = Path(f"{self.out}.{n}")
        for _ in range(240):
            if path.exists() and (found := re.search(r"^summary: (\d+)", path.read_text(), re.M)):
                return int(found.group(1))
            time.sleep(0.5)
        raise RuntimeError(f"callgrind wrote no summary to {path}")


async def measure(tree: Path, pg: PostgresCluster, workdir: Path, args: Any) -> float:
    charla = Charla(workdir, pg, 1, "local")
    hub = CallgrindHub(charla.hubs[0], tree, workdir / "callgrind.out")
    charla.hubs = [hub]
    await charla.start()
    try:
        tenant = await charla.tenant("Bench Motors")
        await charla.agents(tenant, 1, "a")
        chats = await charla.start_chats(await charla.visitors(tenant, args.visitors))
        await asyncio.sleep(2)  # the starts' work done
        sent = 0

        async def write(sock: Any) -> None:
            nonlocal sent
            while sent < args.messages:
                sent += 1
                mark = f"m {next(charla.marks)}"
                payload = {"chat_id": chats[sock], "text": mark, "client_msg_id": mark}
                ack = await sock.call("message", payload)
                assert ack["ok"], ack

        await asyncio.to_thread(hub.control, "-z")
        started = time.perf_counter()
        await asyncio.gather(*(write(sock) for sock in chats))
        took = time.perf_counter() - started
        await asyncio.to_thread(hub.control, "-d")
        await asyncio.to_thread(hub.control, "-z")
        await asyncio.sleep(took)
        await asyncio.to_thread(hub.control, "-d")
        busy, idle = hub.dumped(1), hub.dumped(2)
    finally:
        await charla.stop()
    per_message = (busy - idle) / args.messages
    print(
        f"{tree}: {args.messages} messages in {took:.1f} s under callgrind; "
        f"{busy:,} instructions, {idle:,} idle as long: {per_message:,.0f} per message",
        flush=True,
    )
    return per_message


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("trees", nargs="+", type=Path, help="source trees (checkouts) to compare")
    parser.add_argument("--visitors", type=int, default=40)
    parser.add_argument("--messages", type=int, default=1000)
    args = parser.parse_args()
    if shutil.which("valgrind") is None or shutil.which("callgrind_control") is None:
        parser.error("needs valgrind (and its callgrind_control)")
    results: list[tuple[Path, float]] = []
    with tempfile.TemporaryDirectory(prefix="charla-instr-") as tmp, PostgresCluster() as pg:
        for n, tree in enumerate(args.trees):
            workdir = Path(tmp) / f"tree{n}"
            results.append((tree, await measure(tree.resolve(), pg, workdir, args)))
    first = results[0][1]
    print("\ninstructions per message (ratio to the first tree):")
    for tree, per_message in results:
        print(f"  {per_message:>12,.0f}  {per_message / first:.3f}  {tree}")


if __name__ == "__main__":
    asyncio.run(main())

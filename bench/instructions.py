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
import dataclasses
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.scale import Charla
from tests.cluster import HubProcess
from tests.postgres import PostgresCluster

START_TIMEOUT_S = 600  # a hub under callgrind takes minutes to import and start


def callgrind_control(hub: HubProcess, flag: str) -> None:
    """-z: zero the hub's counters; -d: dump them (to the next `callgrind.out.N`)."""
    assert hub.process is not None
    command = ["callgrind_control", flag, str(hub.process.pid)]
    subprocess.run(command, check=True, capture_output=True, timeout=120)


def dumped(out: Path, n: int) -> int:
    """Instructions in the n-th dump (callgrind writes it after answering the control)."""
    path = Path(f"{out}.{n}")
    for _ in range(240):
        if path.exists() and (found := re.search(r"^summary: (\d+)", path.read_text(), re.M)):
            return int(found.group(1))
        time.sleep(0.5)
    raise RuntimeError(f"callgrind wrote no summary to {path}")


async def measure(tree: Path, pg: PostgresCluster, workdir: Path, args: Any) -> float:
    charla = Charla(workdir, pg, 1, "local")
    out = workdir / "callgrind.out"
    launcher = ("valgrind", "--tool=callgrind", f"--callgrind-out-file={out}")
    hub = charla.hubs[0] = dataclasses.replace(charla.hubs[0], launcher=launcher, cwd=tree)
    await charla.start(timeout_s=START_TIMEOUT_S)
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
                ack = await charla.message(sock, chats[sock])
                assert ack["ok"], ack

        await asyncio.to_thread(callgrind_control, hub, "-z")
        started = time.perf_counter()
        await asyncio.gather(*(write(sock) for sock in chats))
        took = time.perf_counter() - started
        await asyncio.to_thread(callgrind_control, hub, "-d")
        await asyncio.to_thread(callgrind_control, hub, "-z")
        await asyncio.sleep(took)
        await asyncio.to_thread(callgrind_control, hub, "-d")
        busy, idle = dumped(out, 1), dumped(out, 2)
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

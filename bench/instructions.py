"""Instructions a hub executes per visitor message, or per chat start, under valgrind's
callgrind: a measure that the machine's speed does not move, to compare two versions of the
code.

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

With `--what starts`, the work is instead `--starts` chat starts on a tenant whose agents have
room for them all, up to `--visitors` at a time, each counted until its `chat_assigned`
reaches the agent.

Instructions are not time (cache misses, system calls and the database's own work are not
in them), and the writer's batches vary in size from run to run, so differences under ~3%
are not to be trusted. A run takes ~2.5 minutes per tree (the hub starts ~50 times slower).

Run (from the repository root; needs valgrind):
    .venv/bin/python -m bench.instructions /path/to/older/checkout .
    .venv/bin/python -m bench.instructions --what starts --visitors 5 /path/to/older/checkout .
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import functools
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from bench.scale import Charla, bounded
from tests.support import HubProcess, PostgresCluster

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
        work = await (messages(charla, args) if args.what == "messages" else starts(charla, args))
        await asyncio.to_thread(callgrind_control, hub, "-z")
        started = time.perf_counter()
        count = await work()
        took = time.perf_counter() - started
        await asyncio.to_thread(callgrind_control, hub, "-d")
        await asyncio.to_thread(callgrind_control, hub, "-z")
        await asyncio.sleep(took)
        await asyncio.to_thread(callgrind_control, hub, "-d")
        busy, idle = dumped(out, 1), dumped(out, 2)
    finally:
        await charla.stop()
    each = (busy - idle) / count
    print(
        f"{tree}: {count} {args.what} in {took:.1f} s under callgrind; "
        f"{busy:,} instructions, {idle:,} idle as long: {each:,.0f} each",
        flush=True,
    )
    return each


async def messages(charla: Charla, args: Any) -> Callable[[], Awaitable[int]]:
    """`--visitors` visitors in chats with one agent; the work: `--messages` messages, each
    visitor sending its next one as soon as its previous one is acknowledged."""
    tenant = await charla.tenant("Bench Motors")
    await charla.agents(tenant, 1, "a")
    chats = await charla.start_chats(await charla.visitors(tenant, args.visitors))
    await asyncio.sleep(2)  # the starts' work done

    async def work() -> int:
        sent = 0

        async def write(sock: Any) -> None:
            nonlocal sent
            while sent < args.messages:
                sent += 1
                ack = await charla.message(sock, chats[sock])
                assert ack["ok"], ack

        await asyncio.gather(*(write(sock) for sock in chats))
        return int(args.messages)

    return work


async def starts(charla: Charla, args: Any) -> Callable[[], Awaitable[int]]:
    """`--starts` connected visitors and online agents with room for all their chats; the
    work: each visitor starts a chat (`--visitors` at a time), until every `chat_assigned`
    has reached an agent: a chat start's whole cost, queueing and assignment included."""
    newcomers = await charla.newcomers(args.starts, at_once=args.visitors)
    await asyncio.sleep(2)  # the connections' work done
    charla.assign_latencies.clear()

    async def work() -> int:
        async def begin(sock: Any) -> None:
            ack = await charla.arrive(sock)
            assert ack["ok"], ack

        await bounded(args.visitors, [functools.partial(begin, s) for s in newcomers])
        if not await charla.assigned(args.starts, timeout_s=300):
            raise RuntimeError(f"{len(charla.assign_latencies)} of {args.starts} chats assigned")
        return int(args.starts)

    return work


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("trees", nargs="+", type=Path, help="source trees (checkouts) to compare")
    parser.add_argument("--visitors", type=int, default=40)
    parser.add_argument("--what", choices=("messages", "starts"), default="messages")
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--starts", type=int, default=100)
    args = parser.parse_args()
    if shutil.which("valgrind") is None or shutil.which("callgrind_control") is None:
        parser.error("needs valgrind (and its callgrind_control)")
    results: list[tuple[Path, float]] = []
    with tempfile.TemporaryDirectory(prefix="charla-instr-") as tmp, PostgresCluster() as pg:
        for n, tree in enumerate(args.trees):
            workdir = Path(tmp) / f"tree{n}"
            results.append((tree, await measure(tree.resolve(), pg, workdir, args)))
    first = results[0][1]
    print(f"\ninstructions per one of the {args.what} (ratio to the first tree):")
    for tree, each in results:
        print(f"  {each:>12,.0f}  {each / first:.3f}  {tree}")


if __name__ == "__main__":
    asyncio.run(main())

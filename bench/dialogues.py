"""The lead qualifier measured on whole dialogues, through the real hub, as visitors meet it.

Each dialogue of a JSON-lines file (the README beside the dev set: `lines`, `expect`,
`language`) is replayed by a python-socketio visitor on `/visitor` of an in-process hub
(SQLite, the embedded Redis): `start_chat` with the first line and no language, then one
line per bot turn. A turn is over when the hub's bot runner is idle and the visitor has
received every reply the store holds for the chat; after a hand-off the remaining lines go
to the person, as a visitor goes on typing (a correction of the phone or e-mail there still
reaches the lead). When the lines run out the visitor leaves: with no grace period the
next upkeep sweep runs the hub's leave path, which saves the bot's lead (`Bot.on_leave`) and
closes the chat. Leads are read back through `GET /api/leads` as the tenant's one agent (es and en,
online, who closes each chat handed to them) and scored by bench/dialogue_scores.py.

Run: `.venv/bin/python -m bench.dialogues [PATH ...] [--json OUT]` (default: the dev set,
../shared/data/dialogues/dev.jsonl beside the checkout; each file gets its own table).
tests/bots/test_dialogue_corpus.py replays the dev set the same way and asserts the targets.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
from aiohttp.test_utils import TestServer

from bench.dialogue_scores import Dialogue, Outcome, Report, load_dialogues, render, score
from console.app import create_app
from console.domain.clock import ShiftedClock
from console.runtime.logs import configure_logging
from console.security.passwords import PasswordHasher
from console.settings import Limits, Settings
from console.web.keys import HUB, STORE
from tests.support import ADMIN_TOKEN, LiveHub, Peer, eventually

__all__ = ["DAY", "DEFAULT_DATA", "HUB_CHANGES", "load_dialogues", "render", "replay_all", "score"]

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "dialogues" / "dev.jsonl"
# A fixed Tuesday morning in the tenant's time zone (the hub's clock runs at the real pace
# from there): the same run on any day, and far from a month's end.
DAY = datetime(2026, 3, 10, 10, 0, tzinfo=ZoneInfo("America/Puerto_Rico"))
# The hub's settings for a replay: a visitor who leaves is gone at once, the upkeep sweep
# that acts on it runs often, and the event budgets do not slow eight visitors down.
HUB_CHANGES: dict[str, Any] = {
    "visitor_grace_s": 0.0,
    "sweep_interval_s": 0.02,
    "limits": Limits(
        visitor_events_per_s=1000,
        visitor_burst=1000,
        agent_events_per_s=1000,
        agent_burst=1000,
        address_chat_starts_per_minute=10**6,  # every dialogue comes from 127.0.0.1
    ),
}
# Dialogues at once. Chats are independent (the bot replays each from its own messages)
# and the agent's 50 slots are never all taken, so the outcome does not depend on it.
CONCURRENCY = 8


class HarnessError(RuntimeError):
    """The replay itself went wrong (the hub refused an event): not a score of the bot."""


def _bot_reply(chat_id: str) -> Callable[[Any], bool]:
    return lambda d: bool(d["chat_id"] == chat_id and d["message"]["author"] == "bot")


async def _call(peer: Peer, event: str, data: dict[str, Any]) -> dict[str, Any]:
    ack: dict[str, Any] = await peer.call(event, data, timeout_s=30)
    if not ack.get("ok"):
        raise HarnessError(f"{event} refused: {ack}")
    return ack


async def _turn_over(hub: LiveHub, visitor: Peer, chat_id: str) -> int:
    """Wait until the bot has answered (its runner idle: the turn was spawned before the
    ack) and the visitor has every reply the store holds; returns how many there are."""
    await hub.app[HUB].bots.idle()
    stored = await hub.app[STORE].list_messages(chat_id)
    count = sum(1 for m in stored if m.author == "bot")
    if count:
        await visitor.wait_for("message", _bot_reply(chat_id), timeout_s=10, count=count)
    return count


async def _status(hub: LiveHub, chat_id: str) -> str:
    chat = await hub.app[STORE].get_chat(chat_id)
    if chat is None:
        raise HarnessError(f"chat {chat_id} vanished")
    return chat.status


async def replay_dialogue(
    hub: LiveHub, tenant: dict[str, Any], agent_peer: Peer, dialogue: Dialogue
) -> Outcome:
    """One visitor says the dialogue's lines, one per bot turn, then leaves."""
    visitor = await hub.visitor_peer(tenant)
    first = {"text": dialogue.lines[0], "client_msg_id": f"{dialogue.id}-0"}
    chat = (await _call(visitor, "start_chat", first))["chat"]
    if chat["status"] != "bot":
        raise HarnessError(f"{dialogue.id}: the chat started as {chat['status']}, not bot")
    outcome = Outcome(dialogue, chat["id"], lines_sent=1)
    replies = await _turn_over(hub, visitor, outcome.chat_id)
    outcome.silent += [] if replies else [0]
    for index, line in enumerate(dialogue.lines[1:], 1):
        status = await _status(hub, outcome.chat_id)
        if status not in ("bot", "queued", "active"):
            break  # closed: nobody hears more
        if status != "bot":
            # handed off: the visitor goes on typing to the person ("wait, wrong number…"),
            # and a correction of the phone or e-mail still reaches the lead
            said = {
                "chat_id": outcome.chat_id,
                "text": line,
                "client_msg_id": f"{dialogue.id}-{index}",
            }
            await _call(visitor, "message", said)
            outcome.lines_sent += 1
            await hub.app[HUB].bots.idle()
            continue
        said = {"chat_id": outcome.chat_id, "text": line, "client_msg_id": f"{dialogue.id}-{index}"}
        await _call(visitor, "message", said)
        outcome.lines_sent += 1
        before, replies = replies, await _turn_over(hub, visitor, outcome.chat_id)
        outcome.silent += [] if replies > before else [index]
    outcome.replies = [
        d["message"]["text"] for d in visitor.seen("message", _bot_reply(chat["id"]))
    ]
    outcome.ended = await _status(hub, outcome.chat_id)
    await visitor.close()
    if outcome.ended == "bot" and not outcome.silent:
        # the leave path keeps the lead, then closes the chat (it would fail as the bot's
        # turns did when those failed: the hub retries it every few seconds; we move on)

        async def left() -> bool:
            return await _status(hub, outcome.chat_id) != "bot"

        await eventually(left, what=f"{dialogue.id}: the leave path closed the bot chat")
    elif outcome.ended == "active":  # the agent has it: free the slot for the next ones
        await _call(agent_peer, "close_chat", {"chat_id": outcome.chat_id})
    return outcome


async def replay_all(
    hub: LiveHub,
    dialogues: Sequence[Dialogue],
    *,
    progress: Callable[[int, int, Outcome], None] | None = None,
    concurrency: int = CONCURRENCY,
) -> list[Outcome]:
    """Every dialogue through `hub` for a new premium bot tenant (es, en; always open) with
    one agent online who speaks both; each outcome carries its lead, read back over HTTP."""
    if len(dialogues) > 500:
        raise ValueError("GET /api/leads gives 500 leads at most: split the file")
    tenant = await hub.tenant(plan="premium", languages=["es", "en"], bot_enabled=True)
    agent = await hub.agent(tenant, languages=["es", "en"], max_chats=50)
    agent_peer = await hub.agent_peer(agent)
    gate = asyncio.Semaphore(concurrency)
    done = 0

    async def one(dialogue: Dialogue) -> Outcome:
        nonlocal done
        async with gate:
            outcome = await replay_dialogue(hub, tenant, agent_peer, dialogue)
        done += 1
        if progress:
            progress(done, len(dialogues), outcome)
        return outcome

    try:  # the first failure of the replay stops the others
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(one(d)) for d in dialogues]
    except ExceptionGroup as failed:
        raise failed.exceptions[0] from None
    outcomes = [task.result() for task in tasks]
    status, body = await hub.request("GET", "/api/leads?limit=500", token=agent["token"])
    if status != 200:
        raise HarnessError(f"GET /api/leads: {status} {body}")
    leads = {lead["chat_id"]: lead for lead in body["leads"]}
    for outcome in outcomes:
        outcome.lead = leads.get(outcome.chat_id)
    return outcomes


async def run(paths: Sequence[Path], *, quiet: bool = False) -> list[Report]:
    """Start a hub on SQLite and the embedded Redis in a temporary directory, replay each
    file for a tenant of its own, and score it."""

    def progress(done: int, total: int, outcome: Outcome) -> None:
        sent = f"{outcome.lines_sent}/{len(outcome.dialogue.lines)} lines"
        line = f"[{done}/{total}] {outcome.dialogue.id}: {sent}, chat {outcome.ended}"
        if not quiet:
            print(line, file=sys.stderr)

    reports = []
    with tempfile.TemporaryDirectory(prefix="charla-dialogues-") as tmp:
        settings = Settings(data_dir=Path(tmp), admin_token=ADMIN_TOKEN).with_(**HUB_CHANGES)
        passwords = PasswordHasher(time_cost=1, memory_cost=1024)
        app = create_app(settings, passwords=passwords, clock=ShiftedClock(DAY))
        server = TestServer(app, host="127.0.0.1")
        await server.start_server()
        hub = LiveHub(server=server, app=app, http=aiohttp.ClientSession())
        try:
            for path in paths:
                started = time.perf_counter()
                outcomes = await replay_all(hub, load_dialogues(path), progress=progress)
                report = score(outcomes, label=str(path))
                report.seconds = time.perf_counter() - started
                reports.append(report)
        finally:
            await hub.close()
            await hub.http.close()
            await server.close()
    return reports


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.dialogues",
        description="Replay lead-qualifying dialogues through a real hub and score the leads.",
    )
    parser.add_argument(
        "paths",
        nargs="*",
        type=Path,
        default=[DEFAULT_DATA],
        metavar="PATH",
        help=f"JSON-lines dialogue files (default: {DEFAULT_DATA})",
    )
    parser.add_argument("--json", type=Path, metavar="OUT", help="also write the numbers here")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")
    args = parser.parse_args(argv)
    configure_logging("error", json=False)  # a failed bot turn is an error: it shows
    started = time.perf_counter()
    reports = asyncio.run(run(args.paths, quiet=args.quiet))
    print("\n\n".join(render(report) for report in reports))
    print(f"{time.perf_counter() - started:.1f} s in all, hub start included", file=sys.stderr)
    if args.json:
        data = [report.to_json() for report in reports]
        text = json.dumps(data, indent=2, ensure_ascii=False)
        args.json.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

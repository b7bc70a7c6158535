"""The `charla` command: serve, demo, migrate, worker, and the operator's maintenance."""

from __future__ import annotations

import argparse
import asyncio
import secrets
import sys
from collections.abc import Callable, Sequence
from dataclasses import replace

from aiohttp import web

from console import __version__, maintenance
from console.app import create_app
from console.demo import DEMO_AGENTS, DEMO_PASSWORD, ensure_demo
from console.outbox.worker import run_worker
from console.runtime.eventloop import new_event_loop
from console.runtime.gctune import freeze_startup_objects, observe_pauses, tune_for_serving
from console.runtime.logs import configure_logging
from console.runtime.shutdown import unready_on_sigterm
from console.security.crypto import load_or_create_secret
from console.settings import ConfigError, Settings
from console.store.db import make_engine, migrate
from console.web.keys import METRICS, PASSWORDS, READINESS, STORE

SHUTDOWN_TIMEOUT_S = 15.0


def _print(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def _progress() -> Callable[[int, int], None]:
    """A progress line on stderr: rewritten in place on a terminal, else one line a tenth."""
    tty = sys.stderr.isatty()
    shown = [-1]

    def show(done: int, total: int) -> None:
        tenth = done * 10 // total if total else 10
        if not tty and tenth == shown[0]:
            return
        shown[0] = tenth
        line = f"charla: {done:,} of {total:,} visitors"
        if tty:
            line = "\r" + line + ("\n" if done >= total else "")
        else:
            line += "\n"
        sys.stderr.write(line)
        sys.stderr.flush()

    return show


def serve(settings: Settings, app: web.Application | None = None) -> None:
    loop = new_event_loop(settings.event_loop)  # first: a ConfigError before anything starts
    app = app or create_app(settings)
    tune_for_serving()
    pauses = app[METRICS].gc_pauses
    observe_pauses(lambda generation, seconds: pauses.labels(str(generation)).observe(seconds))

    async def started(running: web.Application) -> None:
        freeze_startup_objects()
        # after aiohttp's runner set its own: SIGTERM makes /readyz 503 first, then drains
        unready_on_sigterm(loop, running[READINESS], settings.drain_delay_s)

    app.on_startup.append(started)
    web.run_app(
        app,
        loop=loop,
        host=settings.host,
        port=settings.port,
        shutdown_timeout=SHUTDOWN_TIMEOUT_S,
        print=lambda _msg: None,
        access_log=None,
        handle_signals=True,
    )


def demo(settings: Settings) -> None:
    if settings.admin_token is None:
        token = load_or_create_secret(
            settings.data_dir, None, "admin.token", lambda: secrets.token_urlsafe(24)
        )
        settings = settings.with_(admin_token=token)
    mail_dir = None
    if settings.smtp.host is None and settings.smtp.pickup_dir is None:
        # No relay: the demo's e-mails (transcripts, ticket notices, ADF leads) become files
        mail_dir = settings.data_dir / "mail"
        settings = settings.with_(smtp=replace(settings.smtp, pickup_dir=str(mail_dir)))
    app = create_app(settings)
    base = f"http://{settings.host}:{settings.port}"
    origins = (base, f"http://localhost:{settings.port}", f"http://127.0.0.1:{settings.port}")

    async def seed(app: web.Application) -> None:
        tenant = await ensure_demo(app[STORE], app[PASSWORDS], tuple(dict.fromkeys(origins)))
        lines = [
            "",
            "Charla demo is running.",
            f"  Agent console:  {base}/console/",
            f"  Sample site:    {base}/demo/",
            f"  Health:         {base}/healthz",
            f"  Tenant:         {tenant.name} ({tenant.plan}; {', '.join(tenant.languages)})",
            f"  Site key:       {tenant.site_key}",
            f"  Admin token:    {settings.admin_token}",
            f"  Agents (password {DEMO_PASSWORD}):",
            *[
                f"    {a.email:<34} {a.name} — {', '.join(a.languages)} ({a.role})"
                for a in DEMO_AGENTS
            ],
            "  Try it: sign in to the console as maria (or john) and go online; open a",
            "  vehicle page of the sample site in a Spanish or English browser: after 20 s",
            "  the widget invites you to chat (only while an agent is online). The bot",
            "  greets you, asks what you want and how to reach you, then hands you and",
            "  your lead to the agent.",
            *(
                [f"  E-mails (transcripts, ticket notices, ADF leads) are written to {mail_dir}"]
                if mail_dir is not None
                else []
            ),
            "Press Ctrl+C to stop.",
            "",
        ]
        _print("\n".join(lines))

    app.on_startup.append(seed)
    serve(settings, app)


async def _migrate(settings: Settings) -> None:
    engine = make_engine(settings.resolved_database_url, settings.database)
    try:
        await migrate(engine)
    finally:
        await engine.dispose()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="charla", description="Charla live chat hub. Configured by CHARLA_* variables."
    )
    parser.add_argument("--version", action="version", version=f"charla {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("serve", help="run the hub (web app, Socket.IO, background work)")
    commands.add_parser("demo", help="create the demo dealership, then serve")
    commands.add_parser("migrate", help="bring the database schema up to date and exit")
    commands.add_parser("worker", help="deliver leads and events (the outbox) without serving")
    commands.add_parser("audit-check", help="verify the audit log's hash chains (exit 1: broken)")
    commands.add_parser(
        "rotate-key", help="re-encrypt stored data with the first key of CHARLA_DATA_KEY"
    )
    lookups = commands.add_parser(
        "rebuild-lookups",
        help="make History's keyed hashes of contact details again from the encrypted details",
    )
    lookups.add_argument("--tenant", metavar="TENANT_ID", help="only this tenant's visitors")
    commands.add_parser("purge", help="run the retention purge for every tenant now")
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env()
        configure_logging(settings.log_level, json=settings.log_json)
        if args.command == "serve":
            serve(settings)
        elif args.command == "demo":
            demo(settings)
        elif args.command == "migrate":
            asyncio.run(_migrate(settings))
            _print("charla: the database schema is up to date")
        elif args.command == "worker":
            asyncio.run(run_worker(settings))
        elif args.command == "audit-check":
            intact, lines = asyncio.run(maintenance.audit_check(settings))
            _print("\n".join(lines))
            return 0 if intact else 1
        elif args.command == "rotate-key":
            _print("\n".join(asyncio.run(maintenance.rotate_keys(settings, _progress()))))
        elif args.command == "rebuild-lookups":
            done, lines = asyncio.run(
                maintenance.rebuild_lookups(settings, args.tenant, _progress())
            )
            _print("\n".join(lines))
            return 0 if done else 2
        elif args.command == "purge":
            _print("\n".join(asyncio.run(maintenance.purge_now(settings))))
    except ConfigError as exc:  # in the variables, or what they ask for (CHARLA_EVENT_LOOP)
        _print(f"charla: configuration error: {exc}")
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

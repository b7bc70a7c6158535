"""Logs and metrics as an operator reads them: the standard library's records (aiohttp's,
alembic's) as JSON lines through structlog with the request id; the outbox worker's metrics
per connector; the chats' queue wait; /metrics on an internal port; the Grafana dashboard
asks only for metrics that exist."""

from __future__ import annotations

import dataclasses
import json
import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import structlog
from aiohttp import web
from prometheus_client.parser import text_string_to_metric_families

from console.outbox.worker import OutboxWorker, connectors, running_worker
from console.runtime.logs import HANDLER_NAME, configure_logging
from console.runtime.metrics import Metrics
from console.web.keys import METRICS, SETTINGS, STORE
from console.web.request_ids import HEADER, request_id_middleware
from tests.support.fakes.salesforce import FakeSalesforce
from tests.support.harness import HubFactory, LiveHub, active_chat, eventually, free_port
from tests.support.leads import LEAD, connect_salesforce, save, settled
from tests.test_outbox import FAST

DASHBOARD = Path(__file__).resolve().parents[1] / "deploy" / "grafana" / "charla.json"


@pytest.fixture
def json_logs() -> Iterator[None]:
    """Undoes `configure_logging` after the test (which calls it once its stderr is
    captured: the handler writes to the sys.stderr of that moment)."""
    root = logging.getLogger()
    level = root.level
    yield
    for handler in [h for h in root.handlers if h.get_name() == HANDLER_NAME]:
        root.removeHandler(handler)
    root.setLevel(level)
    structlog.reset_defaults()


def _lines(captured: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in captured.splitlines() if line.startswith("{")]


def test_standard_library_records_are_json_lines_with_the_bound_ids(
    json_logs: None, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging("info", json=True)
    with structlog.contextvars.bound_contextvars(request_id="req-1"):
        logging.getLogger("aiohttp.server").error("Error handling request %s", "/x")
        try:
            raise RuntimeError("kaput")
        except RuntimeError:
            logging.getLogger("alembic.runtime").exception("migration failed")
        structlog.get_logger("charla.test").info("own_line", chat_id="c1")
    logging.getLogger("alembic.runtime").info("below WARNING: alembic's chatter is not shown")
    server, failed, own = _lines(capsys.readouterr().err)
    assert {
        "event": "Error handling request /x",
        "logger": "aiohttp.server",
        "level": "error",
        "request_id": "req-1",
    }.items() <= server.items()
    assert re.match(r"^\d{4}-\d\d-\d\dT", server["timestamp"])
    assert ("error", "req-1") == (failed["level"], failed["request_id"])
    assert "RuntimeError: kaput" in failed["exception"]
    assert ("own_line", "c1", "req-1") == (own["event"], own["chat_id"], own["request_id"])


async def test_each_request_has_an_id_in_its_logs_and_its_response(
    json_logs: None, capsys: pytest.CaptureFixture[str], aiohttp_client: Any
) -> None:
    configure_logging("info", json=True)

    async def handler(_request: web.Request) -> web.Response:
        logging.getLogger("aiohttp.web").warning("inside the handler")
        return web.json_response({})

    app = web.Application(middlewares=[request_id_middleware])
    app.router.add_get("/x", handler)
    client = await aiohttp_client(app)
    given = await client.get("/x", headers={HEADER: "lb-7f3a"})
    made = await client.get("/x")
    bogus = await client.get("/x", headers={HEADER: "no spaces or <tags> allowed"})
    assert "lb-7f3a" == given.headers[HEADER]
    assert re.fullmatch(r"[0-9a-f]{32}", made.headers[HEADER])
    assert re.fullmatch(r"[0-9a-f]{32}", bogus.headers[HEADER])
    logged = [line["request_id"] for line in _lines(capsys.readouterr().err)]
    assert ["lb-7f3a", made.headers[HEADER], bogus.headers[HEADER]] == logged


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


async def test_the_outbox_worker_counts_its_jobs_and_its_queue_per_connector(
    make_hub: HubFactory, salesforce: FakeSalesforce
) -> None:
    hub = await make_hub(outbox=dataclasses.replace(FAST, in_process=False))
    tenant, agent, agent_peer, _visitor, chat = await active_chat(hub)
    await connect_salesforce(hub, tenant, salesforce)
    salesforce.fail_next("unavailable", on="query")
    lead = await save(agent_peer, chat, LEAD)
    store, settings = hub.app[STORE], hub.app[SETTINGS]
    metrics = Metrics()
    sf: tuple[tuple[str, str], ...] = (("destination", "salesforce"),)

    idle = OutboxWorker(store, connectors(settings), FAST, metrics=metrics.outbox)
    await idle.count_pending()  # no worker runs: the lead's delivery waits
    waiting = _samples(metrics.render().decode())
    assert 1.0 == waiting[("charla_outbox_pending", sf)]
    assert waiting[("charla_outbox_queue_age_seconds", sf)] >= 0.0

    async with running_worker(store, settings.with_(outbox=FAST), None, metrics.outbox) as w:
        [delivery] = await settled(hub, agent, lead["id"])
        await w.count_pending()
    assert "delivered" == delivery["status"]
    done = _samples(metrics.render().decode())
    assert 2.0 == done[("charla_outbox_jobs_leased_total", sf)]  # failed once, then delivered
    assert 1.0 == done[("charla_outbox_jobs_delivered_total", sf)]
    failed = (("destination", "salesforce"), ("final", "false"))
    assert 1.0 == done[("charla_outbox_jobs_failed_total", failed)]
    assert 2.0 == done[("charla_outbox_lease_wait_seconds_count", sf)]
    assert (0.0, 0.0) == (
        done[("charla_outbox_pending", sf)],
        done[("charla_outbox_queue_age_seconds", sf)],
    )


async def test_an_assigned_chat_s_queue_wait_is_observed(hub: LiveHub) -> None:
    await active_chat(hub)
    found = _samples(hub.app[METRICS].render().decode())
    assert 1.0 == found[("charla_chat_queue_wait_seconds_count", ())]


async def test_with_a_metrics_port_metrics_leave_the_public_port(make_hub: HubFactory) -> None:
    port = free_port()
    hub = await make_hub(metrics_port=port)
    status, _body = await hub.request("GET", "/metrics")
    assert 404 == status
    async with aiohttp.ClientSession() as http:

        async def scraped() -> str | None:
            try:
                async with http.get(f"http://127.0.0.1:{port}/metrics") as response:
                    return await response.text() if response.status == 200 else None
            except aiohttp.ClientError:
                return None

        text = await eventually(scraped)
    assert "charla_connected_visitors" in text
    assert "charla_outbox_jobs_leased_total" in text or "charla_outbox_jobs_leased" in text


def test_the_grafana_dashboard_asks_only_for_metrics_that_exist() -> None:
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    exprs = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    asked = {name for e in exprs for name in re.findall(r"\bcharla_[a-z_]+", e)}
    known: set[str] = set()
    for family in text_string_to_metric_families(Metrics().render().decode()):
        known.add(family.name)
        known.update({f"{family.name}_{s}" for s in ("total", "bucket", "count", "sum")})
    assert asked
    assert set() == asked - known
    assert {
        "charla_outbox_jobs_leased_total",
        "charla_outbox_queue_age_seconds",
        "charla_chat_queue_wait_seconds_bucket",
    } <= asked

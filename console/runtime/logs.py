"""structlog set-up: JSON lines with tenant and chat ids bound through contextvars.

Log ids, never conversation text or contact details.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import structlog

# The ids of the Socket.IO event being handled: one context variable set once per event
# (structlog's bound_contextvars makes one per key, a measurable cost on the message path).
EVENT_IDS: ContextVar[dict[str, str] | None] = ContextVar("charla_event_ids", default=None)


@contextmanager
def event_ids(ids: dict[str, str]) -> Iterator[None]:
    """Every log line written while handling this event (and in tasks it starts) has `ids`."""
    token = EVENT_IDS.set(ids)
    try:
        yield
    finally:
        EVENT_IDS.reset(token)


def merge_event_ids(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    ids = EVENT_IDS.get()
    if ids:
        for key, value in ids.items():
            event_dict.setdefault(key, value)
    return event_dict


# The name of the root logger's handler that configure_logging installs (replaced, never
# doubled, when it is called again)
HANDLER_NAME = "charla"


def configure_logging(level: str = "info", *, json: bool = True) -> None:
    """structlog's own lines, and the standard library's records (aiohttp's, alembic's,
    asyncio's...) rendered by the same processors: one JSON object a line, with the
    request id and the event's ids wherever they are bound."""
    numeric = logging.getLevelNamesMapping().get(level.upper(), logging.INFO)
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer()
    )
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        merge_event_ids,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    _route_stdlib(
        numeric,
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[*shared, structlog.stdlib.add_logger_name],
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                renderer,
            ],
        ),
    )
    for noisy in ("aiohttp.access", "alembic"):
        logging.getLogger(noisy).setLevel(max(numeric, logging.WARNING))
    # Their warnings are about clients that went away mid-send: ordinary for a chat hub.
    for chatty in ("engineio.server", "socketio.server"):
        logging.getLogger(chatty).setLevel(max(numeric, logging.ERROR))
    structlog.configure(
        processors=[*shared, structlog.processors.format_exc_info, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=False,
    )


def _route_stdlib(level: int, formatter: logging.Formatter) -> None:
    """The root logger writes to stderr through `formatter` (one handler, ours)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.set_name(HANDLER_NAME)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == HANDLER_NAME]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)

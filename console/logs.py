"""structlog set-up: JSON lines with tenant and chat ids bound through contextvars.

Log ids, never conversation text or contact details.
"""

from __future__ import annotations

import logging
import sys

import structlog


def configure_logging(level: str = "info", *, json: bool = True) -> None:
    numeric = logging.getLevelNamesMapping().get(level.upper(), logging.INFO)
    logging.basicConfig(stream=sys.stderr, level=numeric, format="%(message)s")
    for noisy in ("aiohttp.access", "alembic"):
        logging.getLogger(noisy).setLevel(max(numeric, logging.WARNING))
    # Their warnings are about clients that went away mid-send: ordinary for a chat hub.
    for chatty in ("engineio.server", "socketio.server"):
        logging.getLogger(chatty).setLevel(max(numeric, logging.ERROR))
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer()
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=False,
    )

"""Garbage collection settings for a long-running hub process.

Under load a hub holds thousands of sockets, sessions and pooled connections that live for
minutes, and makes many short-lived objects per event (futures, tasks, packets) that a
young-generation collection, run every 700 allocations by default, promotes before they
die. Measured with `bench/scale.py` (docs/performance.md): at saturation the default settings
spent about a third of the hub's time in full collections of 150-180 ms each, every second or
so. So a serving process: collects and freezes what start-up made (never scanned again),
then collects the young generation every 50,000 allocations rather than 700, so that an
event's objects are freed by reference counting before a collection sees them.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from typing import Any

YOUNG_THRESHOLD = 50_000
MIDDLE_THRESHOLD = 20
OLD_THRESHOLD = 100


def tune_for_serving() -> None:
    gc.set_threshold(YOUNG_THRESHOLD, MIDDLE_THRESHOLD, OLD_THRESHOLD)


def observe_pauses(observe: Callable[[int, float], None]) -> Callable[[str, Any], None]:
    """Report every collection's generation and duration to `observe` (for /metrics: a
    full collection holds the whole process, every chat included). Returns the callback,
    which `gc.callbacks.remove` takes off again."""
    started = 0.0

    def callback(phase: str, info: dict[str, Any]) -> None:
        nonlocal started
        if phase == "start":
            started = time.perf_counter()
        else:
            observe(int(info["generation"]), time.perf_counter() - started)

    gc.callbacks.append(callback)
    return callback


def freeze_startup_objects() -> None:
    """After start-up: what exists now lives as long as the process; stop scanning it."""
    gc.collect()
    gc.freeze()

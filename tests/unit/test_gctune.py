"""The garbage collector's pauses, as a serving process reports them to /metrics."""

from __future__ import annotations

import gc

from console.runtime.gctune import observe_pauses


def test_every_collection_is_reported_with_its_generation_and_duration() -> None:
    seen: list[tuple[int, float]] = []
    callback = observe_pauses(lambda generation, seconds: seen.append((generation, seconds)))
    try:
        gc.collect(0)
        gc.collect(2)
    finally:
        gc.callbacks.remove(callback)
    generations = [generation for generation, _ in seen]
    assert 0 in generations
    assert 2 == generations[-1]
    assert all(0 <= seconds < 10 for _, seconds in seen), seen
    reported = len(seen)
    gc.collect(2)
    assert reported == len(seen), "once removed, collections are no longer reported"

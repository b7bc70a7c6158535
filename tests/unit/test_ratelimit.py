"""Token buckets: a burst is allowed, a flood is not, and idle buckets are forgotten."""

from __future__ import annotations

from console.realtime.ratelimit import Buckets, TokenBucket


def test_bucket_allows_the_burst_then_refills_at_the_rate() -> None:
    bucket = TokenBucket(rate=2.0, burst=3)
    start = bucket.updated
    assert [True, True, True, False] == [bucket.take(start) for _ in range(4)]
    assert bucket.take(start + 0.5) is True
    assert bucket.take(start + 0.5) is False


def test_buckets_are_per_key() -> None:
    buckets = Buckets(rate=1.0, burst=1)
    assert (True, False, True) == (buckets.take("ana"), buckets.take("ana"), buckets.take("luis"))


def test_prune_forgets_only_buckets_that_refilled() -> None:
    buckets = Buckets(rate=1.0, burst=2)
    buckets.take("old")
    buckets.take("new")
    later = buckets._buckets["old"].updated + 5
    buckets._buckets["new"].updated = later - 0.5
    buckets.prune(now=later)
    assert ["new"] == list(buckets._buckets)

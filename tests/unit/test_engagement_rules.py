"""Invitation rules as pure functions: every condition, their AND, hours, the one
invitation per visit, the cooldown after a decline, the language of the text."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from console.engagement.rules import (
    Conditions,
    Decision,
    Facts,
    Rule,
    decide,
    in_cooldown,
    invitation_text,
    resolve_language,
    url_matches,
    visit_pages,
)

NOW = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)


def rule(
    rule_id: str = "r1", only_when_agents_available: bool = True, **conditions: object
) -> Rule:
    return Rule(
        id=rule_id,
        name=rule_id,
        enabled=True,
        text={"es": "¿Le ayudamos?", "en": "Can we help?"},
        conditions=Conditions.from_wire(conditions),
        only_when_agents_available=only_when_agents_available,
    )


def facts(**changes: object) -> Facts:
    base = Facts(
        url="https://dealer.example/inventory/2024-toyota-tacoma?utm=x",
        seconds_on_page=0.0,
        pages_viewed=1,
        entry_referrer=None,
        returning=False,
        is_open=True,
        agents_free=True,
        invited_this_visit=False,
        in_chat=False,
        last_declined_at=None,
        now=NOW,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def test_a_rule_without_conditions_invites_at_once() -> None:
    r = rule()
    assert Decision(rule=r) == decide([r], facts())


@pytest.mark.parametrize(
    ("pattern", "url", "expected"),
    [
        ("/inventory/*", "https://dealer.example/inventory/tacoma", True),
        ("/inventory/*", "https://dealer.example/inventory/tacoma?utm_source=google#top", True),
        ("/inventory/*", "https://dealer.example/financing", False),
        ("/inventory/*", "https://dealer.example/", False),
        ("/", "https://dealer.example", True),
        ("/vehicles/*-toyota-*", "https://dealer.example/vehicles/2024-toyota-tacoma", True),
        ("/vehicles/*-toyota-*", "https://dealer.example/vehicles/2023-honda-cr-v", False),
        ("https://dealer.example/*", "https://dealer.example/inventory/x", True),
        ("https://dealer.example/*", "https://other.example/inventory/x", False),
        ("/Inventory/*", "https://dealer.example/inventory/x", False),
    ],
)
def test_url_pattern_is_a_glob_on_the_path_or_the_whole_url(
    pattern: str, url: str, expected: bool
) -> None:
    assert expected == url_matches(pattern, url)


def test_url_pattern_condition() -> None:
    r = rule(url_pattern="/inventory/*")
    assert r == decide([r], facts()).rule
    assert decide([r], facts(url="https://dealer.example/financing")).rule is None


def test_min_seconds_on_page_waits_for_the_remaining_time() -> None:
    r = rule(min_seconds_on_page=20)
    assert Decision(recheck_in_s=15.0) == decide([r], facts(seconds_on_page=5.0))
    assert Decision(rule=r) == decide([r], facts(seconds_on_page=20.0))


def test_the_shortest_remaining_wait_among_rules_is_the_recheck() -> None:
    slow, quick = rule("slow", min_seconds_on_page=60), rule("quick", min_seconds_on_page=10)
    assert Decision(recheck_in_s=8.0) == decide([slow, quick], facts(seconds_on_page=2.0))


def test_min_pages_viewed() -> None:
    r = rule(min_pages_viewed=2)
    assert decide([r], facts(pages_viewed=1)) == Decision()
    assert r == decide([r], facts(pages_viewed=2)).rule
    assert r == decide([r], facts(pages_viewed=7)).rule


def test_referrer_contains_looks_at_the_visits_entry_referrer_case_insensitively() -> None:
    r = rule(referrer_contains="google")
    assert r == decide([r], facts(entry_referrer="https://www.Google.com/search?q=tacoma")).rule
    assert decide([r], facts(entry_referrer="https://www.bing.com/")).rule is None
    assert decide([r], facts(entry_referrer=None)).rule is None


@pytest.mark.parametrize(
    ("wanted", "returning", "invites"),
    [(True, True, True), (True, False, False), (False, False, True), (False, True, False)],
)
def test_returning_visitor(wanted: bool, returning: bool, invites: bool) -> None:
    r = rule(returning_visitor=wanted)
    assert invites == (decide([r], facts(returning=returning)).rule == r)


def test_conditions_combine_with_and() -> None:
    r = rule(
        url_pattern="/inventory/*",
        min_seconds_on_page=10,
        min_pages_viewed=2,
        referrer_contains="google",
        returning_visitor=True,
    )
    every = facts(
        seconds_on_page=10.0, pages_viewed=2, entry_referrer="https://google.com", returning=True
    )
    assert r == decide([r], every).rule
    for missing in (
        {"url": "https://dealer.example/financing"},
        {"pages_viewed": 1},
        {"entry_referrer": "https://duckduckgo.com"},
        {"returning": False},
    ):
        assert decide([r], replace(every, **missing)) == Decision(), missing
    assert Decision(recheck_in_s=4.0) == decide([r], replace(every, seconds_on_page=6.0))


def test_only_during_opening_hours() -> None:
    r = rule(only_when_agents_available=False)
    assert decide([r], facts(is_open=False)) == Decision()
    assert decide([rule(min_seconds_on_page=5)], facts(is_open=False)) == Decision()


def test_only_when_agents_available() -> None:
    strict, lax = rule("strict"), rule("lax", only_when_agents_available=False)
    assert decide([strict], facts(agents_free=False)) == Decision()
    assert lax == decide([strict, lax], facts(agents_free=False)).rule
    assert strict == decide([strict, lax], facts(agents_free=True)).rule


def test_at_most_one_invitation_per_visit() -> None:
    assert decide([rule()], facts(invited_this_visit=True)) == Decision()


def test_no_invitation_while_the_visitor_is_in_a_chat() -> None:
    assert decide([rule()], facts(in_chat=True)) == Decision()


def test_cooldown_after_a_decline_across_visits() -> None:
    r = rule()
    cooldown = timedelta(minutes=30)
    recent = facts(last_declined_at=NOW - timedelta(minutes=29), cooldown=cooldown)
    assert decide([r], recent) == Decision()
    over = facts(last_declined_at=NOW - timedelta(minutes=30), cooldown=cooldown)
    assert r == decide([r], over).rule
    assert in_cooldown(NOW - timedelta(minutes=5), NOW, timedelta(minutes=10))
    assert not in_cooldown(None, NOW, timedelta(minutes=10))
    assert not in_cooldown(NOW - timedelta(minutes=5), NOW, timedelta(0))


def test_disabled_rules_never_invite_and_order_decides_between_matches() -> None:
    first, second = rule("first"), rule("second")
    off = replace(first, enabled=False)
    assert second == decide([off, second], facts()).rule
    assert first == decide([first, second], facts()).rule


@pytest.mark.parametrize(
    ("wanted", "expected"),
    [("es-PR", "es"), ("es", "es"), ("EN_us", "en"), ("fr-FR", "es"), (None, "es"), ("", "es")],
)
def test_the_visitors_language_if_served_else_the_primary(
    wanted: str | None, expected: str
) -> None:
    assert expected == resolve_language(wanted, ("es", "en"))


def test_invitation_text_falls_back_to_the_primary_language() -> None:
    r = rule()
    assert ("Can we help?", "en") == invitation_text(r, "en", "es")
    only_spanish = replace(r, text={"es": "¿Le ayudamos?"})
    assert ("¿Le ayudamos?", "es") == invitation_text(only_spanish, "en", "es")
    only_english = replace(r, text={"en": "Can we help?"})
    assert ("Can we help?", "en") == invitation_text(only_english, "fr", "es")


def test_visit_pages_counts_back_to_the_last_long_gap() -> None:
    t = NOW
    views = [
        (t - timedelta(hours=3), "https://google.com"),
        (t - timedelta(minutes=20), "https://bing.com/"),
        (t - timedelta(minutes=5), "https://dealer.example/"),
        (t, "https://dealer.example/inventory"),
    ]
    assert (3, "https://bing.com/") == visit_pages(views)
    assert (1, "https://google.com") == visit_pages(views[:1])
    assert (0, None) == visit_pages([])

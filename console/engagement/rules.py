"""Invitation rules as pure functions: facts about a visitor in, a decision out.

Nothing here reads a clock, a socket or the store: the service gathers the facts and acts
on the decision, so every condition and combination is testable with plain values.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from fnmatch import fnmatchcase
from urllib.parse import urlsplit

from console.domain.types import NEW_VISIT_AFTER

DEFAULT_COOLDOWN = timedelta(minutes=30)


@dataclass(frozen=True)
class Conditions:
    """What must all hold (AND) for a rule to invite; None means "any"."""

    url_pattern: str | None = None
    min_seconds_on_page: float | None = None
    min_pages_viewed: int | None = None
    referrer_contains: str | None = None
    returning_visitor: bool | None = None

    @classmethod
    def from_wire(cls, raw: Mapping[str, object]) -> Conditions:
        def get(key: str) -> object:
            return raw.get(key)

        seconds, pages = get("min_seconds_on_page"), get("min_pages_viewed")
        returning = get("returning_visitor")
        return cls(
            url_pattern=str(get("url_pattern")) if get("url_pattern") is not None else None,
            min_seconds_on_page=float(seconds) if isinstance(seconds, int | float) else None,
            min_pages_viewed=int(pages) if isinstance(pages, int) else None,
            referrer_contains=(
                str(get("referrer_contains")) if get("referrer_contains") is not None else None
            ),
            returning_visitor=returning if isinstance(returning, bool) else None,
        )


@dataclass(frozen=True)
class Rule:
    """An invitation rule as evaluated: its texts by language, its conditions parsed."""

    id: str
    name: str
    enabled: bool
    text: Mapping[str, str]
    conditions: Conditions
    only_when_agents_available: bool = True


@dataclass(frozen=True)
class Facts:
    """Everything the rules look at, about one visitor on one page at one moment."""

    url: str
    seconds_on_page: float
    pages_viewed: int
    entry_referrer: str | None
    returning: bool
    is_open: bool
    agents_free: bool
    invited_this_visit: bool
    in_chat: bool
    last_declined_at: datetime | None
    now: datetime
    cooldown: timedelta = DEFAULT_COOLDOWN


@dataclass(frozen=True)
class Decision:
    """Invite with `rule` now, or look again in `recheck_in_s` (time on page), or neither."""

    rule: Rule | None = None
    recheck_in_s: float | None = None


def url_matches(pattern: str, url: str) -> bool:
    """A glob on the page's path (`/inventory/*`), or on the whole URL if it names a scheme.

    The query string and fragment are ignored for path patterns: `/vehicle/*` matches
    `/vehicle/tacoma?utm_source=google`.
    """
    if "://" in pattern:
        return fnmatchcase(url, pattern)
    parts = urlsplit(url)
    path = parts.path or "/"
    return fnmatchcase(path, pattern)


def in_cooldown(last_declined_at: datetime | None, now: datetime, cooldown: timedelta) -> bool:
    return last_declined_at is not None and now - last_declined_at < cooldown


def page_conditions_hold(conditions: Conditions, facts: Facts) -> bool:
    """Every condition except time on page (which only waiting can change)."""
    if conditions.url_pattern is not None and not url_matches(conditions.url_pattern, facts.url):
        return False
    if conditions.min_pages_viewed is not None and facts.pages_viewed < conditions.min_pages_viewed:
        return False
    if conditions.referrer_contains is not None:
        needle = conditions.referrer_contains.lower()
        if not facts.entry_referrer or needle not in facts.entry_referrer.lower():
            return False
    return not (
        conditions.returning_visitor is not None and conditions.returning_visitor != facts.returning
    )


def may_invite_at_all(facts: Facts) -> bool:
    """What holds whatever the rule: open, one invitation per visit, no chat, no cooldown."""
    return (
        facts.is_open
        and not facts.invited_this_visit
        and not facts.in_chat
        and not in_cooldown(facts.last_declined_at, facts.now, facts.cooldown)
    )


def decide(rules: Iterable[Rule], facts: Facts) -> Decision:
    """The first enabled rule (in the given order) whose conditions all hold now; otherwise
    the shortest wait after which time on page could make one hold."""
    if not may_invite_at_all(facts):
        return Decision()
    wait: float | None = None
    for rule in rules:
        if not rule.enabled or not page_conditions_hold(rule.conditions, facts):
            continue
        if rule.only_when_agents_available and not facts.agents_free:
            continue
        needed = rule.conditions.min_seconds_on_page or 0.0
        if facts.seconds_on_page >= needed:
            return Decision(rule=rule)
        remaining = needed - facts.seconds_on_page
        wait = remaining if wait is None else min(wait, remaining)
    return Decision(recheck_in_s=wait)


def resolve_language(wanted: str | None, languages: Sequence[str]) -> str:
    """The visitor's language if the tenant serves it (`es-PR` -> `es`), else the primary."""
    if wanted:
        tag = wanted.strip().lower().replace("_", "-").split("-", 1)[0]
        if tag in languages:
            return tag
    return languages[0]


def invitation_text(rule: Rule, language: str, primary: str) -> tuple[str, str]:
    """(text, language): the rule's text in the visitor's language, or in the primary one,
    or in whatever language it has."""
    for candidate in (language, primary):
        if rule.text.get(candidate):
            return rule.text[candidate], candidate
    first = next(iter(sorted(rule.text)))
    return rule.text[first], first


def visit_pages(
    views: Sequence[tuple[datetime, str | None]], gap: timedelta = NEW_VISIT_AFTER
) -> tuple[int, str | None]:
    """(pages viewed this visit, the visit's entry referrer) from a visitor's page views,
    oldest first, each (viewed_at, referrer). A gap longer than `gap` starts a new visit."""
    if not views:
        return 0, None
    start = len(views) - 1
    while start > 0 and views[start][0] - views[start - 1][0] <= gap:
        start -= 1
    return len(views) - start, views[start][1]

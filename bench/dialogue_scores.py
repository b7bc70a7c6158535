"""Scoring of replayed dialogues (bench/dialogues.py replays them through the hub): the
lead saved for each chat against the dialogue's `expect`, field by field, by the rules of
the README beside the dev set; whether a lead was saved with a name and a contact; loops
(a question asked three times or more); replies in another language than the visitor's.

A field is right (both present and equal), wrong (both present, different), extra
(predicted, expected absent) or missed (expected, not predicted).
F1 = 2·right / (2·right + wrong + extra + missed), precision = right / (right + wrong +
extra), recall = right / (right + wrong + missed).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bots.script import Script, default_script

FIELDS = (
    "interest",
    "vehicle.year",
    "vehicle.make",
    "vehicle.model",
    "vehicle.condition",
    "trade_in.year",
    "trade_in.make",
    "trade_in.model",
    "trade_in.mileage",
    "timeframe",
    "first_name",
    "last_name",
    "phone",
    "email",
)
TRADE_IN_FIELDS = tuple(f for f in FIELDS if f.startswith("trade_in."))
TARGET_F1_ALL, TARGET_F1_TRADE_IN = 0.97, 0.95  # issue 29
_ALIASES = {"chevy": "chevrolet", "vw": "volkswagen"}


@dataclass(frozen=True)
class Dialogue:
    id: str
    language: str
    lines: tuple[str, ...]
    expect: dict[str, Any]


def load_dialogues(path: Path) -> list[Dialogue]:
    """A JSON-lines file of dialogues: `id`, `language`, `lines`, `expect` (and a `note`)."""
    dialogues = []
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if raw.strip():
            item = json.loads(raw)
            if not item.get("lines"):
                raise ValueError(f"{path}:{number}: a dialogue needs at least one line")
            lines = tuple(item["lines"])
            dialogues.append(Dialogue(item["id"], item["language"], lines, item["expect"]))
    return dialogues


@dataclass
class Outcome:
    """One replayed dialogue, as the visitor and the agent saw it."""

    dialogue: Dialogue
    chat_id: str
    replies: list[str] = field(default_factory=list)  # the bot's messages, in order
    lines_sent: int = 0
    ended: str = "bot"  # the chat's status when the visitor left ("active": handed off)
    silent: list[int] = field(default_factory=list)  # lines the bot did not answer
    lead: dict[str, Any] | None = None  # as GET /api/leads gave it


def flat(lead: dict[str, Any] | None) -> dict[str, Any]:
    """The scored fields of a lead (or of `expect`) that have a value."""
    values: dict[str, Any] = {}
    for name in FIELDS:
        group, _, key = name.partition(".")
        value = (lead or {}).get(group)
        if key:
            value = (value or {}).get(key)
        if value is not None and value != "":
            values[name] = value
    return values


def predicted(lead: dict[str, Any] | None) -> dict[str, Any]:
    """A saved lead's fields; "other" is the interest the hub stores when the bot had none."""
    values = flat(lead)
    if values.get("interest") == "other":
        del values["interest"]
    return values


def reachable(values: dict[str, Any]) -> bool:
    """A name and a way to call: what makes a lead worth saving."""
    has_name = "first_name" in values or "last_name" in values
    return has_name and ("phone" in values or "email" in values)


def same(name: str, want: Any, got: Any) -> bool:
    """The README's comparison: names by case only; makes and models without case, spaces
    and hyphens (Chevy = Chevrolet, VW = Volkswagen); numbers as integers; the rest exactly."""
    if name in ("first_name", "last_name"):
        return str(want).casefold() == str(got).casefold()
    if name.endswith((".make", ".model")):
        key = [re.sub(r"[\s-]+", "", str(v).casefold()) for v in (want, got)]
        return _ALIASES.get(key[0], key[0]) == _ALIASES.get(key[1], key[1])
    if name.endswith((".year", ".mileage")):
        try:
            return int(want) == int(got)
        except (TypeError, ValueError):
            return bool(want == got)
    return bool(want == got)


@dataclass
class Tally:
    right: int = 0
    wrong: int = 0
    extra: int = 0
    missed: int = 0

    def add(self, other: Tally) -> None:
        for key in ("right", "wrong", "extra", "missed"):
            setattr(self, key, getattr(self, key) + getattr(other, key))

    @property
    def expected(self) -> int:
        return self.right + self.wrong + self.missed

    @property
    def rates(self) -> tuple[float | None, float | None, float | None]:
        """Precision, recall and F1 (None where nothing counts)."""

        def ratio(right: int, rest: int) -> float | None:
            return right / (right + rest) if right + rest else None

        r, w, e, m = self.right, self.wrong, self.extra, self.missed
        return ratio(r, w + e), ratio(r, w + m), ratio(2 * r, w + e + m)

    def to_json(self) -> dict[str, Any]:
        return {**vars(self), **dict(zip(("precision", "recall", "f1"), self.rates, strict=True))}


class Phrasebook:
    """Which script texts a bot reply contains (messages and FAQ answers), so which
    questions it asks and in which language it speaks."""

    def __init__(self, script: Script) -> None:
        self.texts: list[tuple[str, str, re.Pattern[str]]] = []  # (key, language, pattern)
        texts = [
            (k, lang, t) for k, by_lang in script.messages.items() for lang, t in by_lang.items()
        ]
        texts += [(f"faq:{e.id}", lang, t) for e in script.faq for lang, t in e.answers.items()]
        for key, language, text in texts:
            # a template's fixed parts in order, anything where a {placeholder} was (one
            # left empty takes its comma with it: "¡Gracias!"); no words of its own: unusable
            parts = [p.strip(" ,") for p in re.split(r"\{\w+\}", text)]
            if any(re.search(r"\w", p) for p in parts):
                pattern = ".*?".join(re.escape(p) for p in parts if p)
                self.texts.append((key, language, re.compile(pattern, re.DOTALL)))

    def asked(self, reply: str) -> set[str]:
        """The questions (`ask_*` keys) a reply asks."""
        return {k for k, _, p in self.texts if k.startswith("ask_") and p.search(reply)}

    def languages(self, reply: str) -> set[str]:
        return {language for _, language, p in self.texts if p.search(reply)}


@dataclass
class Report:
    label: str
    outcomes: list[Outcome]
    fields: dict[str, Tally] = field(default_factory=lambda: {f: Tally() for f in FIELDS})
    mistakes: dict[str, list[str]] = field(default_factory=dict)  # id -> one line each
    loops: dict[str, list[str]] = field(default_factory=dict)  # id -> questions asked 3+
    wrong_language: dict[str, list[str]] = field(default_factory=dict)  # id -> replies
    unknown: int = 0  # replies that contain no script text (their language is not checked)
    seconds: float = 0.0

    def total(self, names: Sequence[str]) -> Tally:
        tally = Tally()
        for name in names:
            tally.add(self.fields[name])
        return tally

    @property
    def expected_leads(self) -> list[Outcome]:
        return [o for o in self.outcomes if reachable(flat(o.dialogue.expect))]

    @property
    def saved(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.lead is not None]

    @property
    def complete(self) -> list[Outcome]:
        """Saved leads with a name and a phone or an e-mail."""
        return [o for o in self.saved if reachable(predicted(o.lead))]

    def shortfalls(self) -> list[str]:
        """The issue's targets that this run misses, one line each (none: all met)."""
        found = []
        if silent := [o.dialogue.id for o in self.outcomes if o.silent]:
            found.append(f"the bot failed to answer (bot_turn_failed in the log): {_ids(silent)}")
        for label, names, target in (
            ("F1 over all fields", FIELDS, TARGET_F1_ALL),
            ("F1 over the trade-in fields", TRADE_IN_FIELDS, TARGET_F1_TRADE_IN),
        ):
            f1 = self.total(names).rates[2]
            if f1 is not None and f1 < target:  # None: nothing expected, nothing said
                found.append(f"{label} {_num(f1)} < {target}")
        complete = {o.dialogue.id for o in self.complete}
        if lost := [o.dialogue.id for o in self.expected_leads if o.dialogue.id not in complete]:
            found.append(f"leads not saved with a name and a contact: {_ids(lost)}")
        if self.loops:
            found.append(f"the bot looped in {_ids(self.loops)}")
        if self.wrong_language:
            found.append(f"replies in the wrong language in {_ids(self.wrong_language)}")
        return found

    def to_json(self) -> dict[str, Any]:
        return {
            "data": self.label,
            "dialogues": len(self.outcomes),
            "seconds": round(self.seconds, 2),
            "fields": {name: tally.to_json() for name, tally in self.fields.items()},
            "all_fields": self.total(FIELDS).to_json(),
            "trade_in_fields": self.total(TRADE_IN_FIELDS).to_json(),
            "leads_expected": len(self.expected_leads),
            "leads_saved": len(self.saved),
            "leads_with_name_and_contact": len(self.complete),
            "dialogues_with_loops": len(self.loops),
            "wrong_language_replies": sum(len(r) for r in self.wrong_language.values()),
            "replies_not_in_the_script": self.unknown,
            "shortfalls": self.shortfalls(),
            "mistakes": self.mistakes,
            "outcomes": [  # for debugging: what each visitor saw, and the lead
                {
                    "id": o.dialogue.id,
                    "chat_id": o.chat_id,
                    "lines_sent": o.lines_sent,
                    "ended": o.ended,
                    "replies": o.replies,
                    "lead": o.lead,
                }
                for o in self.outcomes
            ],
        }


def score(outcomes: Sequence[Outcome], label: str = "", script: Script | None = None) -> Report:
    """Score the outcomes; `script`: the one the bot spoke (Charla's default)."""
    phrasebook = Phrasebook(script or default_script())
    report = Report(label, list(outcomes))
    for outcome in outcomes:
        dialogue = outcome.dialogue
        notes = [] if outcome.lead is not None else ["no lead saved"]
        want, got = flat(dialogue.expect), predicted(outcome.lead)
        for name in FIELDS:
            tally = report.fields[name]
            if name in want and name in got and same(name, want[name], got[name]):
                tally.right += 1
                continue
            if name in want and name in got:
                tally.wrong += 1
            elif name in got:
                tally.extra += 1
            elif name in want:
                tally.missed += 1
            else:
                continue
            notes.append(f"{name}: expected {want.get(name)!r}, got {got.get(name)!r}")
        asked = Counter(key for reply in outcome.replies for key in phrasebook.asked(reply))
        if looped := sorted(f"{k} x{n}" for k, n in asked.items() if n >= 3):
            report.loops[dialogue.id] = looped
            notes.append(f"loop: {', '.join(looped)}")
        for reply in outcome.replies:
            spoken = phrasebook.languages(reply)
            report.unknown += not spoken
            if spoken and dialogue.language not in spoken:
                report.wrong_language.setdefault(dialogue.id, []).append(reply)
                notes.append(f"reply not in {dialogue.language}: {reply!r}")
        if outcome.silent:
            notes.append(f"no bot reply to line(s) {outcome.silent} (a failed turn)")
        if notes:
            sent = f"{outcome.lines_sent}/{len(dialogue.lines)} lines sent"
            report.mistakes[dialogue.id] = [*notes, f"{sent}, chat {outcome.ended} at the end"]
    return report


def _ids(ids: Sequence[str] | dict[str, Any]) -> str:
    return ", ".join(ids)


def _num(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def _row(name: str, t: Tally) -> str:
    counts = f"{t.expected} | {t.right} | {t.wrong} | {t.extra} | {t.missed}"
    return f"| {name} | {counts} | {' | '.join(map(_num, t.rates))} |"


def render(report: Report) -> str:
    """The per-field table, the per-dialogue counts, the targets and every mistake."""
    n = len(report.outcomes)
    took = f" in {report.seconds:.1f} s" if report.seconds else ""
    wrong_language = sum(len(r) for r in report.wrong_language.values())
    lines = [
        f"{report.label or 'dialogues'}: {n} dialogues through the hub{took}",
        "",
        "| field | expected | right | wrong | extra | missed | precision | recall | F1 |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        *(_row(name, tally) for name, tally in report.fields.items()),
        _row("**all fields**", report.total(FIELDS)),
        _row("**trade-in fields**", report.total(TRADE_IN_FIELDS)),
        "",
        f"- leads saved: {len(report.saved)}/{n} ({len(report.expected_leads)} expected)",
        f"- leads with a name and a contact: {len(report.complete)}/{n}",
        f"- dialogues where the bot looped (a question 3+ times): {len(report.loops)}",
        f"- bot replies not in the visitor's language: {wrong_language}"
        f" (in {len(report.wrong_language)} dialogues; {report.unknown} replies"
        " containing no script text, so not checked)",
    ]
    shortfalls = report.shortfalls()
    lines += ["", "Targets: " + ("MISSED" if shortfalls else "all met")]
    lines += [f"- {s}" for s in shortfalls]
    if report.mistakes:
        lines += ["", f"Dialogues with a mistake ({len(report.mistakes)}):"]
        for outcome in report.outcomes:
            if notes := report.mistakes.get(outcome.dialogue.id):
                dialogue = outcome.dialogue
                lines.append(f"- {dialogue.id} ({dialogue.language}, chat {outcome.chat_id})")
                lines += [f"    {note}" for note in notes]
    return "\n".join(lines)

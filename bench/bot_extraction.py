"""Precision and recall of the lead qualifier's field extraction, per field.

Run: `.venv/bin/python -m bench.bot_extraction [tests/data/lead_utterances.yaml]`.
Prints a Markdown table (docs/bots.md quotes it). A prediction counts as right only when
it equals the expected value exactly; a wrong value is both a false positive and a false
negative.
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path
from typing import Any

import yaml

from bots.qualifier.extract import extract

DEFAULT_DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "lead_utterances.yaml"


def score(cases: list[dict[str, Any]]) -> dict[str, dict[str, int]]:
    """field -> {"tp", "fp", "fn"} over all cases."""
    counts: dict[str, Counter[str]] = {}
    for case in cases:
        expected = dict(case.get("expect") or {})
        predicted = extract(case["text"]).flat()
        for name in set(expected) | set(predicted):
            tally = counts.setdefault(name, Counter())
            want, got = expected.get(name), predicted.get(name)
            if got is not None and got == want:
                tally["tp"] += 1
                continue
            if got is not None:
                tally["fp"] += 1
            if want is not None:
                tally["fn"] += 1
    return {name: {k: c[k] for k in ("tp", "fp", "fn")} for name, c in sorted(counts.items())}


def table(scores: dict[str, dict[str, int]], n_cases: int) -> str:
    lines = [
        f"{n_cases} utterances",
        "",
        "| field | expected | found right | wrong or extra | missed | precision | recall |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    total = Counter[str]()
    for name, c in scores.items():
        total.update(c)
        lines.append(_row(name, c))
    lines.append(_row("**all fields**", dict(total)))
    return "\n".join(lines)


def _row(name: str, c: dict[str, int]) -> str:
    tp, fp, fn = c.get("tp", 0), c.get("fp", 0), c.get("fn", 0)
    precision = f"{tp / (tp + fp):.2f}" if tp + fp else "n/a"
    recall = f"{tp / (tp + fn):.2f}" if tp + fn else "n/a"
    return f"| {name} | {tp + fn} | {tp} | {fp} | {fn} | {precision} | {recall} |"


def main(argv: list[str]) -> None:
    path = Path(argv[1]) if len(argv) > 1 else DEFAULT_DATA
    cases = yaml.safe_load(path.read_text(encoding="utf-8"))
    print(table(score(cases), len(cases)))
    if "-v" in argv:
        for case in cases:
            predicted = extract(case["text"]).flat()
            expected = case.get("expect") or {}
            if predicted != expected:
                print(f"- {case['text']!r}\n  want {expected}\n  got  {predicted}")


if __name__ == "__main__":
    main(sys.argv)

"""How redaction cost grows with input: the ratio of 10x input to 1x should stay near 10.

Run: .venv/bin/python bench/redact.py
"""

from __future__ import annotations

import time

from console.security.redact import redact

CASES = {
    "digits and spaces": "1 " * 2000,
    "card-like groups": "4111 " * 800,
    "one long digit run": "1" * 4000,
    "many real cards": "4111 1111 1111 1111 " * 200,
    "cvv words": "cvv " * 1000,
    "chat text": "Hola, me interesa la Tacoma 2022, mi número es 787-555-0123. " * 60,
}


def best_of(text: str, rounds: int = 5) -> float:
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        redact(text)
        best = min(best, time.perf_counter() - started)
    return best


def main() -> None:
    print(f"{'case':<20} {'4k chars ms':>12} {'40k chars ms':>13} {'ratio':>6}")
    for name, text in CASES.items():
        one, ten = best_of(text), best_of(text * 10)
        print(f"{name:<20} {one * 1000:>12.2f} {ten * 1000:>13.2f} {ten / one:>6.1f}")


if __name__ == "__main__":
    main()

"""The `testbot` fixture: a bot conversation in memory, text in and replies out."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from bots.testing import TestBot


@pytest.fixture
def testbot() -> Callable[..., TestBot]:
    """A factory: `testbot(plan=..., now=..., agents_available=...)` -> a fresh TestBot."""

    def make(**options: Any) -> TestBot:
        return TestBot(**options)

    return make

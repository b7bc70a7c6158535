"""The `testbot` fixture: a bot conversation in memory, text in and replies out."""

from __future__ import annotations

import pytest

from bots.testing import TestBot


@pytest.fixture
def testbot() -> type[TestBot]:
    """A factory: `testbot(plan=..., now=..., agents_available=...)` -> a fresh TestBot."""
    return TestBot

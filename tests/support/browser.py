"""Headless Debian chromium driven by Playwright for Python, for every page test.

`require_chromium()` skips the calling test when chromium or Playwright is missing, saying
why; under `CI=true` it fails instead. Playwright never downloads a browser here: it drives
the system's `/usr/bin/chromium` (or `$CHARLA_CHROMIUM`).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from tests.support.tools import missing

ARTIFACTS = Path(__file__).parent.parent / "artifacts"
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def chromium_path() -> str | None:
    configured = os.environ.get("CHARLA_CHROMIUM")
    if configured:
        return configured if Path(configured).exists() else None
    return shutil.which("chromium") or shutil.which("chromium-browser")


def require_chromium() -> str:
    path = chromium_path()
    if path is None:
        missing(
            "chromium", "chromium is not installed (apt-get install chromium, or run .ci/setup)"
        )
    if importlib.util.find_spec("playwright") is None:  # the [test] extra brings it
        missing("chromium", "Playwright for Python is missing (pip install -e '.[test]')")
    return path


@asynccontextmanager
async def launch_chromium(**options: Any) -> AsyncIterator[Any]:
    """A fresh headless browser; yields Playwright's `Browser`."""
    path = require_chromium()
    from playwright.async_api import async_playwright  # noqa: PLC0415  (optional: see above)

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=path, headless=True, args=FLAGS, **options
        )
        try:
            yield browser
        finally:
            await browser.close()


def screenshot_path(name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS / f"{name}.png"

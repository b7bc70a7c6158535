"""The tools a test needs from the machine besides Python: node and npm packages here,
chromium (browser.py) and PostgreSQL (postgres.py) through `missing`.

One rule for all of them: on a developer's machine a test whose tool is missing is skipped,
saying what to install; under `CI=true` it fails, since a skip there would hide that the
check never ran.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import NoReturn

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
FRONTEND = ROOT / "frontend"


def missing(what: str, problem: str) -> NoReturn:
    """Skip the calling test (or fixture) for want of `what`; fail instead under CI."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{what} is required in CI: {problem}", pytrace=False)
    pytest.skip(problem)


def require_node(project: Path, package: str, what: str) -> str:
    """The path to node, once `package` is installed in `project`'s node_modules."""
    node = shutil.which("node")
    if node is None:
        missing(what, "node is not installed")
    if not (project / "node_modules" / package).is_dir():
        where = project.resolve().relative_to(ROOT)
        missing(what, f"{where}/node_modules is missing: run `bash .ci/setup` (npm ci in {where})")
    return node


def require_esbuild() -> str:
    return require_node(FRONTEND, "esbuild", "the front-end build")

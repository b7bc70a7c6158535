"""The tools a test needs from the machine besides Python: node and npm packages here,
chromium (browser.py) and PostgreSQL (postgres.py) through `missing`.

One rule for all of them: on a developer's machine a test whose tool is missing is skipped,
saying what to install; under `CI=true` it fails, since a skip there would hide that the
check never ran.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

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


RUNNER = """
import * as module from "./bundle.mjs";
let input = "";
for await (const chunk of process.stdin) input += chunk;
const out = JSON.parse(input).map(([fn, args]) => module[fn](...args));
process.stdout.write(JSON.stringify(out));
"""


def node_caller(entry: str, out: Path) -> Callable[..., list[Any]]:
    """Front-end functions run under Node as the browser runs them: esbuild bundles the
    TypeScript `entry` (its source: `export ... from "<path>"` lines) into `out`, and the
    returned function takes cases `(exported name, [arguments])` and gives their answers,
    all cases in one Node run."""
    node = require_esbuild()
    (out / "entry.ts").write_text(entry)
    subprocess.run(
        [
            str(FRONTEND / "node_modules" / ".bin" / "esbuild"),
            str(out / "entry.ts"),
            "--bundle",
            "--format=esm",
            "--platform=node",
            "--jsx=automatic",
            "--jsx-import-source=preact",
            f"--outfile={out / 'bundle.mjs'}",
            "--log-level=warning",
        ],
        check=True,
        timeout=60,
    )
    (out / "run.mjs").write_text(RUNNER)

    def run(*cases: tuple[str, list[Any]]) -> list[Any]:
        done = subprocess.run(
            [node, str(out / "run.mjs")],
            input=json.dumps(cases),
            capture_output=True,
            text=True,
            check=True,
            timeout=30,
        )
        result: list[Any] = json.loads(done.stdout)
        return result

    return run

"""The committed bundles in console/web/static are exactly what the sources build to."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
FRONTEND = ROOT / "frontend"
STATIC = ROOT / "console" / "web" / "static"


def require_esbuild() -> str:
    node = shutil.which("node")
    problem = None
    if node is None:
        problem = "node is not installed"
    elif not (FRONTEND / "node_modules" / "esbuild").is_dir():
        problem = "frontend/node_modules is missing: run `bash .ci/setup` (npm ci in frontend)"
    if problem:
        if os.environ.get("CI") == "true":
            pytest.fail(f"the front-end build is required in CI: {problem}", pytrace=False)
        pytest.skip(problem)
    assert node is not None
    return node


@pytest.mark.parametrize("bundle", ["widget.js", "console.js"])
def test_committed_bundle_matches_its_sources(bundle: str, tmp_path: Path) -> None:
    node = require_esbuild()
    subprocess.run(
        [node, "build.mjs", "--outdir", str(tmp_path)],
        cwd=FRONTEND,
        check=True,
        capture_output=True,
        timeout=120,
    )
    built = (tmp_path / bundle).read_bytes()
    committed = (STATIC / bundle).read_bytes()
    assert built == committed, (
        f"console/web/static/{bundle} is stale: run `cd frontend && npm run build` and commit it"
    )

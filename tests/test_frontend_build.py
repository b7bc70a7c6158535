"""The committed bundles in console/web/static are exactly what the sources build to."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.support.tools import FRONTEND, ROOT, require_esbuild

STATIC = ROOT / "console" / "web" / "static"


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

"""The visitor widget's weight, since it loads on every page of a dealer's site: the
committed bundle raw and gzipped, beside socket.io-client bundled alone with the same
esbuild settings, against the budget of 35 KB gzipped.

Run: .venv/bin/python bench/widget_size.py   (needs node and frontend/node_modules)
"""

from __future__ import annotations

import gzip
import subprocess
import tempfile
from pathlib import Path

ROOT = Path(__file__).parent.parent
FRONTEND = ROOT / "frontend"
BUNDLE = ROOT / "console" / "web" / "static" / "widget.js"
BUDGET_GZ = 35 * 1024

CLIENT_ONLY = """
import * as esbuild from "esbuild";
await esbuild.build({
  stdin: { contents: 'import { io } from "socket.io-client"; window.__io = io;',
           resolveDir: process.cwd(), loader: "ts" },
  bundle: true, minify: true, format: "iife", legalComments: "none",
  target: ["es2019", "chrome90", "firefox90", "safari14"],
  outfile: process.argv[1],
});
"""


def sizes(data: bytes) -> tuple[int, int]:
    return len(data), len(gzip.compress(data, compresslevel=9))


def socketio_client_alone() -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "client.js"
        subprocess.run(
            ["node", "--input-type=module", "-e", CLIENT_ONLY, str(out)],
            cwd=FRONTEND,
            check=True,
            timeout=60,
        )
        return out.read_bytes()


def main() -> None:
    widget_raw, widget_gz = sizes(BUNDLE.read_bytes())
    client_raw, client_gz = sizes(socketio_client_alone())
    print(f"{'bundle':<28} {'raw bytes':>10} {'gzip -9 bytes':>14}")
    print(f"{'widget.js (all of it)':<28} {widget_raw:>10} {widget_gz:>14}")
    print(f"{'socket.io-client alone':<28} {client_raw:>10} {client_gz:>14}")
    own_raw, own_gz = widget_raw - client_raw, widget_gz - client_gz
    print(f"{'the widget own code (diff)':<28} {own_raw:>10} {own_gz:>14}")
    print(f"socket.io-client share of the gzipped bundle: {client_gz / widget_gz:.2f}")
    print(f"gzipped bundle / 35 KB budget: {widget_gz / BUDGET_GZ:.2f}")


if __name__ == "__main__":
    main()

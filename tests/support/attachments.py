"""Attachments in tests: files made on the spot (a JPEG with GPS in its EXIF, a PDF of any
size), uploads as a browser sends them (multipart, streamed in chunks when asked), the
hub's memory around one request, and a real S3-protocol server (moto's `moto_server`)."""

from __future__ import annotations

import contextlib
import io
import socket
import subprocess
import sys
import time
import tracemalloc
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from PIL import Image

from tests.support.harness import LiveHub, free_port
from tests.support.tools import missing

GPS_IFD = 0x8825
BOUNDARY = "charla-test-boundary"
T = TypeVar("T")


def jpeg_with_gps(width: int = 640, height: int = 480) -> bytes:
    """A photo as a phone takes it: EXIF with the camera, the time and a GPS position."""
    image = Image.new("RGB", (width, height), (30, 120, 200))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0132] = "2026:12:01 10:00:00"  # DateTime
    exif[GPS_IFD] = {1: "N", 2: (18.0, 27.0, 57.0), 3: "W", 4: (66.0, 3.0, 48.0)}
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif.tobytes(), quality=85)
    return out.getvalue()


def pdf_bytes(size: int) -> bytes:
    """A PDF's signature, padded to exactly `size` bytes."""
    head = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n"
    return head + b"%" * (size - len(head) - 6) + b"\n%%EOF"


def multipart(data: bytes, filename: str, content_type: str) -> bytes:
    return _head(filename, content_type) + data + _tail()


def _head(filename: str, content_type: str) -> bytes:
    return (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"'
        f"\r\nContent-Type: {content_type}\r\n\r\n"
    ).encode()


def _tail() -> bytes:
    return f"\r\n--{BOUNDARY}--\r\n".encode()


async def streamed(size: int, filename: str, prefix: bytes) -> AsyncIterator[bytes]:
    """A multipart body of a `size`-byte file, sent in 64 KiB chunks that are one object
    (the client holds no more than that)."""
    yield _head(filename, "application/pdf") + prefix
    block = b"\0" * (64 * 1024)
    left = size - len(prefix)
    while left > 0:
        yield block[: min(left, len(block))] if left < len(block) else block
        left -= len(block)
    yield _tail()


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any
    headers: dict[str, str]
    content: bytes


async def upload(hub: LiveHub, chat_id: str, token: str | None, body: Any) -> Answer:
    """POST /api/chats/{chat_id}/attachments with a multipart body (bytes or chunks)."""
    headers = {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    url = f"{hub.url}/api/chats/{chat_id}/attachments"
    async with hub.http.post(url, data=body, headers=headers) as response:
        return Answer(
            response.status,
            await response.json(content_type=None),
            dict(response.headers),
            b"",
        )


async def download(hub: LiveHub, path: str, token: str) -> Answer:
    headers = {"Authorization": f"Bearer {token}"}
    async with hub.http.get(hub.url + path, headers=headers) as response:
        content = await response.read()
        body = None
        if response.content_type == "application/json":
            body = await response.json()
        return Answer(response.status, body, dict(response.headers), content)


async def peak_growth(work: Callable[[], Awaitable[T]]) -> tuple[T, int]:
    """What `work` returned, and the most memory Python held during it beyond what it held
    before (tracemalloc: every allocation of this process, the hub's and the client's)."""
    tracemalloc.start()
    try:
        before, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        result = await work()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return result, peak - before


def files_under(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


@contextlib.contextmanager
def moto_server() -> Iterator[str]:
    """moto's standalone S3 server on a random loopback port, stopped at the end: its URL."""
    try:
        import moto.server  # noqa: F401, PLC0415 - only to tell that moto[server] is there
    except ImportError:
        missing("moto[server]", "moto[server] is not installed: pip install -e '.[test]'")
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for_port(port, process)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_for_port(port: int, process: subprocess.Popen[bytes]) -> None:
    for _ in range(300):
        if process.poll() is not None:
            raise RuntimeError(f"moto_server exited with {process.returncode}")
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError("moto_server did not listen within 15 s")


async def s3_objects(endpoint: str, bucket: str) -> list[str]:
    """The keys in the bucket, read through aiobotocore."""
    from aiobotocore.session import get_session  # noqa: PLC0415

    async with get_session().create_client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    ) as client:
        listed = await client.list_objects_v2(Bucket=bucket)
        return sorted(item["Key"] for item in listed.get("Contents", []))


async def make_bucket(endpoint: str, bucket: str) -> None:
    from aiobotocore.session import get_session  # noqa: PLC0415

    async with get_session().create_client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    ) as client:
        await client.create_bucket(Bucket=bucket)

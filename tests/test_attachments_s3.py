"""Attachments kept in an S3-compatible object store: the same scenarios as
tests/test_attachments.py against a real S3-protocol server (moto's `moto_server`, started
on a random loopback port and stopped after), on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import NamedTuple

import pytest

from console.settings import Files
from tests.support.attachments import (
    download,
    files_under,
    make_bucket,
    moto_server,
    multipart,
    pdf_bytes,
    s3_objects,
    upload,
)
from tests.support.harness import HubFactory, LiveHub, active_chat
from tests.test_attachments import (
    big_upload_is_refused_in_little_memory,
    gps_photo_reaches_the_agent_without_it,
    upload_token,
)

BUCKET = "charla-files"


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    with moto_server() as endpoint:
        yield endpoint


class S3Hub(NamedTuple):
    hub: LiveHub
    bucket: str


S3HubFactory = Callable[[str], Awaitable[S3Hub]]


@pytest.fixture
def make_s3_hub(make_hub: HubFactory, s3_endpoint: str, tmp_path: Path) -> S3HubFactory:
    """Hubs whose files go to a bucket of their own on the moto server."""

    async def factory(database_url: str) -> S3Hub:
        bucket = f"{BUCKET}-{tmp_path.name.lower().replace('_', '-')[-20:]}"
        await make_bucket(s3_endpoint, bucket)
        files = Files(
            storage_url=f"s3://{bucket}/chats",
            s3_endpoint_url=s3_endpoint,
            s3_region="us-east-1",
            s3_access_key_id="testing",
            s3_secret_access_key="testing",
        )
        hub = await make_hub(data_dir=tmp_path / "var", database_url=database_url, files=files)
        return S3Hub(hub, bucket)

    return factory


@pytest.fixture
async def s3_hub(make_s3_hub: S3HubFactory, database_url: str) -> S3Hub:
    """On SQLite and on PostgreSQL."""
    return await make_s3_hub(database_url)


async def test_a_visitors_photo_reaches_the_agent_without_exif_or_gps(s3_hub: S3Hub) -> None:
    await gps_photo_reaches_the_agent_without_it(s3_hub.hub)


async def test_an_upload_past_the_limit_is_refused_while_streaming(s3_hub: S3Hub) -> None:
    await big_upload_is_refused_in_little_memory(s3_hub.hub)


async def test_files_go_to_the_bucket_and_leave_it_with_erasure(
    make_s3_hub: S3HubFactory, s3_endpoint: str, tmp_path: Path
) -> None:
    hub, bucket = await make_s3_hub(f"sqlite+aiosqlite:///{tmp_path / 'charla.sqlite3'}")
    tenant = await hub.tenant()
    admin = await hub.agent(tenant, languages=["es"], role="admin")
    _tenant, _agent, _peer, visitor, chat = await active_chat(hub, tenant)
    pdf = pdf_bytes(9 * 1024 * 1024)  # past one request's 8 MiB: a multipart upload
    sent = await upload(hub, chat["id"], upload_token(visitor), multipart(pdf, "a.pdf", "x"))
    assert 201 == sent.status, sent.body
    attachment_id = sent.body["message"]["attachment"]["id"]
    assert [f"chats/{tenant['id']}/{attachment_id}"] == await s3_objects(s3_endpoint, bucket)
    got = await download(hub, f"/api/attachments/{attachment_id}", admin["token"])
    assert pdf == got.content
    assert [] == files_under(tmp_path / "var" / "files")  # nothing kept in the data dir

    visitor_id = visitor.seen("session")[0]["visitor_id"]
    status, _ = await hub.request(
        "POST", "/api/visitors/erase", token=admin["token"], json={"visitor_id": visitor_id}
    )
    assert 200 == status
    assert [] == await s3_objects(s3_endpoint, bucket)

"""Attachments in any S3-compatible object store (AWS S3, MinIO, Ceph, R2...) through
aiobotocore: `CHARLA_STORAGE_URL=s3://bucket/prefix`, with `CHARLA_S3_ENDPOINT_URL` for a
store that is not AWS, `CHARLA_S3_REGION` and the credentials (`CHARLA_S3_ACCESS_KEY_ID`,
`CHARLA_S3_SECRET_ACCESS_KEY`; unset: botocore's own chain, an instance role say).

Encryption at rest is the object store's (server-side encryption, a bucket policy); the
files never pass through it unauthenticated, and nothing here logs a credential.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

from aiobotocore.session import get_session
from botocore.exceptions import ClientError

from console.files.storage import CHUNK, FileMissingError, checked_key
from console.settings import Files

PART = 8 * 1024 * 1024  # one request up to this size; past it, a multipart upload
_MISSING = frozenset({"NoSuchKey", "404", "NotFound"})


class S3Storage:
    def __init__(self, client: Any, bucket: str, prefix: str) -> None:
        self.client = client
        self.bucket = bucket
        self.prefix = prefix

    def __repr__(self) -> str:
        return f"S3Storage(bucket={self.bucket!r}, prefix={self.prefix!r})"

    @classmethod
    async def open(cls, files: Files, stack: AsyncExitStack) -> S3Storage:
        assert files.storage_url is not None
        bucket, _, prefix = files.storage_url.removeprefix("s3://").partition("/")
        client = await stack.enter_async_context(
            get_session().create_client(
                "s3",
                endpoint_url=files.s3_endpoint_url,
                region_name=files.s3_region,
                aws_access_key_id=files.s3_access_key_id,
                aws_secret_access_key=files.s3_secret_access_key,
            )
        )
        return cls(client, bucket, prefix.strip("/"))

    def name(self, key: str) -> str:
        key = checked_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    async def put(self, key: str, source: Path) -> None:
        name = self.name(key)
        if os.stat(source).st_size <= PART:
            body = await asyncio.to_thread(source.read_bytes)
            await self.client.put_object(Bucket=self.bucket, Key=name, Body=body)
            return
        upload = await self.client.create_multipart_upload(Bucket=self.bucket, Key=name)
        upload_id = upload["UploadId"]
        parts: list[dict[str, Any]] = []
        try:
            with source.open("rb") as handle:
                while body := await asyncio.to_thread(handle.read, PART):
                    number = len(parts) + 1
                    sent = await self.client.upload_part(
                        Bucket=self.bucket,
                        Key=name,
                        UploadId=upload_id,
                        PartNumber=number,
                        Body=body,
                    )
                    parts.append({"ETag": sent["ETag"], "PartNumber": number})
            await self.client.complete_multipart_upload(
                Bucket=self.bucket,
                Key=name,
                UploadId=upload_id,
                MultipartUpload={"Parts": parts},
            )
        except BaseException:
            await asyncio.shield(
                self.client.abort_multipart_upload(Bucket=self.bucket, Key=name, UploadId=upload_id)
            )
            raise

    async def read(self, key: str) -> AsyncIterator[bytes]:
        try:
            found = await self.client.get_object(Bucket=self.bucket, Key=self.name(key))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in _MISSING:
                raise FileMissingError(key) from None
            raise
        async with found["Body"] as body:
            while chunk := await body.read(CHUNK):
                yield chunk

    async def delete(self, key: str) -> None:
        await self.client.delete_object(Bucket=self.bucket, Key=self.name(key))

"""The S3 object store against a real S3-compatible server (moto's, on loopback).

The same promises as the local store: round trips, overwrites, missing keys, prefix
deletes past the 1000-key page, key validation and the size bound.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Iterator

import pytest

from storage.objects import InvalidKey, ObjectStoreError, S3ObjectStore, S3Settings

BUCKET = "atelier-test"


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    server_module = pytest.importorskip(
        "moto.server", reason="moto[server] (the test extra) provides the local S3 server"
    )
    server = server_module.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def settings_for(endpoint: str, **overrides: int) -> S3Settings:
    return S3Settings(
        endpoint_url=endpoint,
        region="us-east-1",
        access_key_id="atelier",
        secret_access_key="atelier-secret",
        addressing_style="path",
        **overrides,
    )


@pytest.fixture
async def s3(s3_endpoint: str) -> AsyncIterator[S3ObjectStore]:
    # each test under a prefix of its own in the shared bucket
    store = S3ObjectStore(f"s3://{BUCKET}/t{uuid.uuid4().hex}", settings_for(s3_endpoint))
    async with store:
        await ensure_bucket(store)
        yield store


async def ensure_bucket(store: S3ObjectStore) -> None:
    client = store._client_or_raise()
    with contextlib.suppress(client.exceptions.BucketAlreadyOwnedByYou):
        await client.create_bucket(Bucket=store.bucket)


async def keys_in_bucket(store: S3ObjectStore) -> list[str]:
    client = store._client_or_raise()
    keys: list[str] = []
    async for page in client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=store.prefix):
        keys.extend(item["Key"][len(store.prefix) :] for item in page.get("Contents", []))
    return sorted(keys)


async def test_round_trip(s3: S3ObjectStore) -> None:
    key = "sessions/s-1/cad/prt-1.step"
    assert await s3.get(key) is None
    assert not await s3.exists(key)

    await s3.put(key, b"ISO-10303-21;", "model/step")
    assert await s3.get(key) == b"ISO-10303-21;"
    assert await s3.exists(key)
    head = await s3._client_or_raise().head_object(Bucket=BUCKET, Key=s3.prefix + key)
    assert head["ContentType"] == "model/step"

    await s3.put(key, b"second")
    assert await s3.get(key) == b"second"
    assert await keys_in_bucket(s3) == [key]
    # S3 has no directories: a key's parent is not an object
    assert await s3.get("sessions/s-1") is None
    # the file path is a local store's shortcut only
    assert await s3.open_path(key) is None


async def test_delete_prefix_pages_past_a_thousand_keys(s3: S3ObjectStore) -> None:
    keys = [f"s/a/{i:04d}.stl" for i in range(1003)]
    for start in range(0, len(keys), 100):
        await asyncio.gather(*(s3.put(key, b"x") for key in keys[start : start + 100]))
    for key in ("s/ab/z.stl", "s/b/w.stl", "t/a.step"):
        await s3.put(key, key.encode())

    assert await s3.delete_prefix("s/a/") == 1003
    assert await keys_in_bucket(s3) == ["s/ab/z.stl", "s/b/w.stl", "t/a.step"]
    # a prefix is a prefix of the key: 's/' matches every key under s
    assert await s3.delete_prefix("s/") == 2
    assert await keys_in_bucket(s3) == ["t/a.step"]
    assert await s3.get("t/a.step") == b"t/a.step"


@pytest.mark.parametrize("key", ["../a", "/abs", "a//b", "a\x00b", ""])
async def test_invalid_keys_are_refused_before_any_request(s3: S3ObjectStore, key: str) -> None:
    with pytest.raises(InvalidKey):
        await s3.put(key, b"x")
    with pytest.raises(InvalidKey):
        await s3.get(key)
    assert await keys_in_bucket(s3) == []


async def test_object_size_is_bounded(s3_endpoint: str) -> None:
    async with S3ObjectStore(f"s3://{BUCKET}/bounded", settings_for(s3_endpoint, max_object_bytes=4)) as s3:
        await ensure_bucket(s3)
        await s3.put("small.bin", b"1234")
        with pytest.raises(ObjectStoreError, match="5 bytes"):
            await s3.put("large.bin", b"12345")
        assert await s3.get("small.bin") == b"1234"
        assert not await s3.exists("large.bin")


async def test_a_missing_bucket_is_an_object_store_error(s3_endpoint: str) -> None:
    async with S3ObjectStore("s3://no-such-bucket/p", settings_for(s3_endpoint)) as s3:
        with pytest.raises(ObjectStoreError, match=r"s3://no-such-bucket/p/a\.step"):
            await s3.get("a.step")
        with pytest.raises(ObjectStoreError, match=r"S3 put s3://no-such-bucket/p/a\.step failed"):
            await s3.put("a.step", b"x")

"""The object store: local round trips, atomic writes, key validation, backend selection."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from storage.objects import (
    InvalidKey,
    LocalObjectStore,
    ObjectStore,
    ObjectStoreError,
    S3ObjectStore,
    S3Settings,
    content_type_for,
    make_object_store,
    validate_key,
)
from storage.settings import StorageSettings


@pytest.fixture
def store(tmp_path: Path) -> LocalObjectStore:
    return LocalObjectStore(tmp_path / "objects")


def visible_files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


async def test_round_trip(store: LocalObjectStore) -> None:
    key = "sessions/s-1/cad/prt-1.step"
    assert await store.get(key) is None
    assert not await store.exists(key)
    assert await store.open_path(key) is None

    await store.put(key, b"ISO-10303-21;", "model/step")
    assert await store.get(key) == b"ISO-10303-21;"
    assert await store.exists(key)
    path = await store.open_path(key)
    assert path == store.root / "sessions" / "s-1" / "cad" / "prt-1.step"
    assert path.read_bytes() == b"ISO-10303-21;"

    await store.put(key, b"second")
    assert await store.get(key) == b"second"
    assert visible_files(store.root) == ["sessions/s-1/cad/prt-1.step"]
    # a directory is not an object
    assert await store.get("sessions/s-1") is None
    assert not await store.exists("sessions/s-1")


async def test_delete_prefix(store: LocalObjectStore) -> None:
    for key in ("s/a/x.step", "s/a/y.glb", "s/ab/z.stl", "s/b/w.stl", "t/a.step"):
        await store.put(key, key.encode())
    assert await store.delete_prefix("s/a/") == 2
    assert visible_files(store.root) == ["s/ab/z.stl", "s/b/w.stl", "t/a.step"]
    # A prefix is a prefix of the key, as in S3: 's/' matches every key under s.
    assert await store.delete_prefix("s/") == 2
    assert visible_files(store.root) == ["t/a.step"]
    assert await store.delete_prefix("t/a") == 1
    assert await store.delete_prefix("nothing/here/") == 0
    assert visible_files(store.root) == []


async def test_writes_are_atomic(store: LocalObjectStore, monkeypatch: pytest.MonkeyPatch) -> None:
    key = "s/part.glb"
    data = os.urandom(1 << 20)
    real_replace = os.replace
    seen: list[tuple[bool, bytes]] = []

    def checking_replace(src: str, dst: str | Path) -> None:
        # The moment before the rename: the object is not there yet, the temp file is whole.
        seen.append((Path(dst).exists(), Path(src).read_bytes()))
        assert Path(src).name.startswith(".tmp-")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", checking_replace)
    await store.put(key, data)
    assert seen == [(False, data)]
    assert await store.get(key) == data


async def test_a_failed_write_leaves_the_old_object(
    store: LocalObjectStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = "s/part.step"
    await store.put(key, b"old")

    def disk_full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(OSError, match="No space left"):
        await store.put(key, b"new and partial")
    assert await store.get(key) == b"old"
    assert os.listdir(store.root / "s") == ["part.step"]  # the temporary file is gone


async def test_temporary_files_are_not_objects(store: LocalObjectStore) -> None:
    await store.put("s/a.step", b"a")
    (store.root / "s" / ".tmp-abc").write_bytes(b"partial")
    with pytest.raises(InvalidKey):
        await store.get("s/.tmp-abc")
    assert await store.delete_prefix("s/") == 1
    assert (store.root / "s" / ".tmp-abc").exists()  # an in-flight write is left to finish


@pytest.mark.parametrize(
    "key",
    [
        "",
        "/etc/passwd",
        "../x",
        "a/../../x",
        "a/./b",
        "a//b",
        "a/",
        ".hidden",
        "a/.tmp-1",
        "a\\b",
        "a/b\x00",
        "x" * 1025,
    ],
)
async def test_invalid_keys_are_refused(store: LocalObjectStore, key: str) -> None:
    with pytest.raises(InvalidKey):
        validate_key(key)
    with pytest.raises(InvalidKey):
        await store.put(key, b"x")
    with pytest.raises(InvalidKey):
        await store.get(key)
    with pytest.raises(InvalidKey):
        await store.open_path(key)
    assert not store.root.exists() or visible_files(store.root) == []


def test_valid_keys_and_prefixes() -> None:
    for key in ("a", "sessions/3f2a/cad/prt-1.step", "A_b.c-d/e"):
        assert validate_key(key) == key
    assert validate_key("sessions/3f2a/", prefix=True) == "sessions/3f2a/"
    assert validate_key("sessions/3f", prefix=True) == "sessions/3f"
    for prefix in ("", "/", "../", "a//"):
        with pytest.raises(InvalidKey):
            validate_key(prefix, prefix=True)


async def test_object_size_is_bounded(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path, max_object_bytes=4)
    await store.put("a.bin", b"1234")
    with pytest.raises(ObjectStoreError, match="exceeds the limit"):
        await store.put("b.bin", b"12345")


def test_content_types() -> None:
    assert content_type_for("a/b.step") == "model/step"
    assert content_type_for("a/b.STP") == "model/step"
    assert content_type_for("a/b.stl") == "model/stl"
    assert content_type_for("a/b.glb") == "model/gltf-binary"
    assert content_type_for("a/b") == "application/octet-stream"


def test_make_object_store(tmp_path: Path) -> None:
    local = make_object_store(None, tmp_path)
    assert isinstance(local, LocalObjectStore)
    assert local.root == tmp_path / "objects"
    there = make_object_store(f"file://{tmp_path}/elsewhere", tmp_path)
    assert isinstance(there, LocalObjectStore)
    assert there.root == tmp_path / "elsewhere"
    settings = S3Settings(endpoint_url="http://127.0.0.1:9000", addressing_style="path")
    s3 = make_object_store("s3://cad-bucket/atelier/prod/", tmp_path, s3=settings)
    assert isinstance(s3, S3ObjectStore)
    assert (s3.bucket, s3.prefix, s3.settings) == ("cad-bucket", "atelier/prod/", settings)
    assert S3ObjectStore("s3://bucket").prefix == ""
    with pytest.raises(ValueError, match="unsupported object store URL"):
        make_object_store("ftp://host/x", tmp_path)
    with pytest.raises(InvalidKey):
        make_object_store("s3://bucket/../x", tmp_path)


def test_s3_settings_from_env() -> None:
    env = {
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9000",
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_ACCESS_KEY_ID": "id",
        "AWS_SECRET_ACCESS_KEY": "secret",
        "ATELIER_S3_ADDRESSING_STYLE": "path",
    }
    assert S3Settings.from_env(env) == S3Settings(
        endpoint_url="http://127.0.0.1:9000",
        region="eu-west-1",
        access_key_id="id",
        secret_access_key="secret",
        addressing_style="path",
    )
    assert S3Settings.from_env(
        {"AWS_ENDPOINT_URL_S3": "http://s3", "AWS_ENDPOINT_URL": "http://x"}
    ).endpoint_url == ("http://s3")
    assert S3Settings.from_env({}) == S3Settings()


async def test_object_settings_reach_the_store(tmp_path: Path) -> None:
    """ATELIER_OBJECT_MAX_BYTES and the S3 client settings travel from the environment, through
    the storage settings every process is given, to the store it makes (local and S3)."""
    env = {
        "ATELIER_DATA_DIR": str(tmp_path),
        "ATELIER_OBJECT_MAX_BYTES": "8",
        "ATELIER_S3_MAX_CONNECTIONS": "3",
        "ATELIER_S3_ADDRESSING_STYLE": "path",
        "AWS_SECRET_ACCESS_KEY": "hush",
    }
    settings = StorageSettings.from_env(env)
    assert "hush" not in repr(settings)
    local = make_object_store(settings.objects_url, settings.data_dir, s3=settings.objects)
    assert isinstance(local, LocalObjectStore)
    await local.put("small.step", b"12345678")
    with pytest.raises(ObjectStoreError):
        await local.put("large.step", b"123456789")
    s3 = make_object_store("s3://bucket/p", settings.data_dir, s3=settings.objects)
    assert isinstance(s3, S3ObjectStore)
    assert (s3.max_object_bytes, s3.settings.max_pool_connections, s3.settings.addressing_style) == (
        8,
        3,
        "path",
    )


async def test_s3_store_must_be_opened() -> None:
    s3 = S3ObjectStore("s3://bucket/p")
    with pytest.raises(ObjectStoreError, match="not open"):
        await s3.put("a.step", b"x")
    assert await s3.open_path("a.step") is None
    with pytest.raises(InvalidKey):
        await s3.get("../a")


def test_both_backends_fit_the_protocol(tmp_path: Path) -> None:
    stores: list[ObjectStore] = [LocalObjectStore(tmp_path), S3ObjectStore("s3://b")]
    assert len(stores) == 2

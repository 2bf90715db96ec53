"""Object storage for generated files (STEP, STL, GLB): local directory or S3.

Keys are relative, slash-separated paths such as ``sessions/<id>/cad/prt-1.step``; every
segment starts with a letter, digit or underscore, so no key can climb out of the store
(``..``), be absolute, or name one of the local store's hidden temporary files. Values are
bytes; the local store writes a temporary file and renames it into place, so a reader sees
either the whole old object or the whole new one, never a partial write.

`make_object_store` picks the backend from a URL: ``s3://bucket/prefix`` for S3 (needs the
``aiobotocore`` package), anything else a `LocalObjectStore` under ``<data_dir>/objects``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from types import TracebackType
from typing import Any, Protocol, Self
from urllib.parse import urlsplit

__all__ = [
    "CONTENT_TYPES",
    "InvalidKey",
    "LocalObjectStore",
    "ObjectStore",
    "ObjectStoreError",
    "S3ObjectStore",
    "S3Settings",
    "content_type_for",
    "make_object_store",
    "validate_key",
]

log = logging.getLogger(__name__)

CONTENT_TYPES: Mapping[str, str] = {
    ".step": "model/step",
    ".stp": "model/step",
    ".stl": "model/stl",
    ".glb": "model/gltf-binary",
    ".gltf": "model/gltf+json",
    ".json": "application/json",
    ".png": "image/png",
}
DEFAULT_CONTENT_TYPE = "application/octet-stream"
DEFAULT_MAX_OBJECT_BYTES = 256 * 1024 * 1024
MAX_KEY_CHARS = 1024
_SEGMENT = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]*$")
_TEMP_PREFIX = ".tmp-"


class ObjectStoreError(RuntimeError):
    """The object store could not complete an operation."""


class InvalidKey(ObjectStoreError, ValueError):
    """A key or prefix that could escape the store or is not a plain relative path."""


def content_type_for(key: str) -> str:
    """The content type for a key's extension (``model/step``, ``model/stl``, ...)."""
    return CONTENT_TYPES.get(PurePosixPath(key).suffix.lower(), DEFAULT_CONTENT_TYPE)


def validate_key(key: str, *, prefix: bool = False) -> str:
    """``key`` if it is a safe relative path; a ``prefix`` may also end in ``/`` or a partial name.

    Raises `InvalidKey` for empty keys, absolute paths, backslashes, ``.``/``..`` and empty
    segments, and segments starting with anything but a letter, digit or underscore.
    """
    if not isinstance(key, str) or not key:
        raise InvalidKey(f"object key must be a non-empty string, got {key!r}")
    if len(key) > MAX_KEY_CHARS:
        raise InvalidKey(f"object key longer than {MAX_KEY_CHARS} characters")
    if key.startswith("/") or "\\" in key or "\x00" in key:
        raise InvalidKey(f"object key must be a relative slash-separated path, got {key!r}")
    segments = key.split("/")
    if prefix and segments[-1] == "":
        segments = segments[:-1]
    for segment in segments:
        if not _SEGMENT.match(segment):
            raise InvalidKey(f"invalid object key segment {segment!r} in {key!r}")
    return key


class ObjectStore(Protocol):
    """Where generated files live. ``open_path`` gives a local file for zero-copy serving
    (None when the backend is remote or the object is missing)."""

    async def open(self) -> None: ...

    async def close(self) -> None: ...

    async def put(self, key: str, data: bytes, content_type: str | None = None) -> None: ...

    async def get(self, key: str) -> bytes | None: ...

    async def exists(self, key: str) -> bool: ...

    async def open_path(self, key: str) -> Path | None: ...

    async def delete_prefix(self, prefix: str) -> int: ...


class _Lifecycle:
    async def open(self) -> None:
        return None

    async def close(self) -> None:
        return None

    async def __aenter__(self) -> Self:
        await self.open()
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()


def _check_size(data: bytes, limit: int) -> None:
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"object data must be bytes, got {type(data).__name__}")
    if len(data) > limit:
        raise ObjectStoreError(f"object of {len(data)} bytes exceeds the limit of {limit} bytes")


class LocalObjectStore(_Lifecycle):
    """Objects as files under ``root``; file work runs in threads, off the event loop."""

    def __init__(self, root: Path, *, max_object_bytes: int = DEFAULT_MAX_OBJECT_BYTES) -> None:
        self.root = Path(root)
        self.max_object_bytes = max_object_bytes

    def path_for(self, key: str) -> Path:
        return self.root.joinpath(*validate_key(key).split("/"))

    async def put(self, key: str, data: bytes, content_type: str | None = None) -> None:
        # Local files carry no content type: it follows from the extension when served.
        path = self.path_for(key)
        _check_size(data, self.max_object_bytes)
        await asyncio.to_thread(self._write, path, bytes(data))

    def _write(self, path: Path, data: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(prefix=_TEMP_PREFIX, dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as stream:
                stream.write(data)
                stream.flush()
                os.fsync(stream.fileno())
            os.replace(temp, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp)
            raise

    async def get(self, key: str) -> bytes | None:
        path = self.path_for(key)
        try:
            return await asyncio.to_thread(path.read_bytes)
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return None

    async def exists(self, key: str) -> bool:
        return await asyncio.to_thread(self.path_for(key).is_file)

    async def open_path(self, key: str) -> Path | None:
        path = self.path_for(key)
        return path if await asyncio.to_thread(path.is_file) else None

    async def delete_prefix(self, prefix: str) -> int:
        """Delete every object whose key starts with ``prefix``; returns how many were removed."""
        validate_key(prefix, prefix=True)
        return await asyncio.to_thread(self._delete_prefix, prefix)

    def _delete_prefix(self, prefix: str) -> int:
        folder, _, start = prefix.rpartition("/")
        parent = self.root.joinpath(*folder.split("/")) if folder else self.root
        if not parent.is_dir():
            return 0
        removed = 0
        for entry in parent.iterdir():
            if start and not entry.name.startswith(start):
                continue
            if entry.name.startswith(_TEMP_PREFIX):
                continue  # an in-flight write: its rename will land or its cleanup will remove it
            if entry.is_dir() and not entry.is_symlink():
                removed += sum(1 for p in entry.rglob("*") if p.is_file())
                shutil.rmtree(entry)
            else:
                entry.unlink(missing_ok=True)
                removed += 1
        return removed


@dataclass(frozen=True, slots=True)
class S3Settings:
    """Connection settings for S3 or an S3-compatible service (MinIO, Ceph, R2, ...).

    Fields left None fall back to botocore's own chain (environment, config files, instance
    role). Built once at the entry point with `from_env`.
    """

    endpoint_url: str | None = None
    region: str | None = None
    access_key_id: str | None = None
    secret_access_key: str | None = field(default=None, repr=False)
    session_token: str | None = field(default=None, repr=False)
    # "path" for most self-hosted services; "auto"/"virtual" for AWS.
    addressing_style: str = "auto"
    max_object_bytes: int = DEFAULT_MAX_OBJECT_BYTES
    max_pool_connections: int = 16

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> S3Settings:
        default = cls()
        return cls(
            endpoint_url=env.get("AWS_ENDPOINT_URL_S3") or env.get("AWS_ENDPOINT_URL") or None,
            region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or None,
            access_key_id=env.get("AWS_ACCESS_KEY_ID") or None,
            secret_access_key=env.get("AWS_SECRET_ACCESS_KEY") or None,
            session_token=env.get("AWS_SESSION_TOKEN") or None,
            addressing_style=env.get("ATELIER_S3_ADDRESSING_STYLE", default.addressing_style),
            max_object_bytes=int(env.get("ATELIER_OBJECT_MAX_BYTES", default.max_object_bytes)),
            max_pool_connections=int(env.get("ATELIER_S3_MAX_CONNECTIONS", default.max_pool_connections)),
        )


def _error_code(error: Exception) -> str:
    response = getattr(error, "response", None)
    if isinstance(response, Mapping):
        details = response.get("Error")
        if isinstance(details, Mapping):
            return str(details.get("Code", ""))
    return ""


_MISSING = frozenset({"NoSuchKey", "404", "NotFound"})


class S3ObjectStore(_Lifecycle):
    """Objects in an S3 bucket under a key prefix, through one aiobotocore client.

    ``open()`` creates the client and ``close()`` releases its connection pool; use
    ``async with`` or call both.
    """

    def __init__(self, url: str, settings: S3Settings | None = None) -> None:
        parts = urlsplit(url)
        if parts.scheme != "s3" or not parts.netloc:
            raise ValueError(f"not an s3://bucket[/prefix] URL: {url!r}")
        self.bucket = parts.netloc
        prefix = parts.path.strip("/")
        if prefix:
            validate_key(prefix)
        self.prefix = f"{prefix}/" if prefix else ""
        self.settings = settings or S3Settings()
        self.max_object_bytes = self.settings.max_object_bytes
        self._stack: contextlib.AsyncExitStack | None = None
        self._client: Any = None

    async def open(self) -> None:
        if self._client is not None:
            return
        # Imported here so the local store works without the optional dependency.
        from aiobotocore.config import AioConfig
        from aiobotocore.session import get_session

        s = self.settings
        config = AioConfig(
            s3={"addressing_style": s.addressing_style},
            max_pool_connections=s.max_pool_connections,
            retries={"max_attempts": 3, "mode": "standard"},
        )
        stack = contextlib.AsyncExitStack()
        self._client = await stack.enter_async_context(
            get_session().create_client(
                "s3",
                endpoint_url=s.endpoint_url,
                region_name=s.region,
                aws_access_key_id=s.access_key_id,
                aws_secret_access_key=s.secret_access_key,
                aws_session_token=s.session_token,
                config=config,
            )
        )
        self._stack = stack

    async def close(self) -> None:
        stack, self._stack, self._client = self._stack, None, None
        if stack is not None:
            await stack.aclose()

    def _client_or_raise(self) -> Any:
        if self._client is None:
            raise ObjectStoreError("S3ObjectStore is not open")
        return self._client

    def _key(self, key: str) -> str:
        return self.prefix + validate_key(key)

    def _where(self, full: str) -> str:
        return f"s3://{self.bucket}/{full}"

    async def put(self, key: str, data: bytes, content_type: str | None = None) -> None:
        from botocore.exceptions import ClientError

        full = self._key(key)
        _check_size(data, self.max_object_bytes)
        try:
            await self._client_or_raise().put_object(
                Bucket=self.bucket,
                Key=full,
                Body=bytes(data),
                ContentType=content_type or content_type_for(key),
            )
        except ClientError as exc:
            raise ObjectStoreError(f"S3 put {self._where(full)} failed: {exc}") from exc

    async def get(self, key: str) -> bytes | None:
        from botocore.exceptions import ClientError

        full = self._key(key)
        try:
            response = await self._client_or_raise().get_object(Bucket=self.bucket, Key=full)
        except ClientError as exc:
            if _error_code(exc) in _MISSING:
                return None
            raise ObjectStoreError(f"S3 get {self._where(full)} failed: {exc}") from exc
        async with response["Body"] as stream:
            data: bytes = await stream.read()
        return data

    async def exists(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        full = self._key(key)
        try:
            await self._client_or_raise().head_object(Bucket=self.bucket, Key=full)
        except ClientError as exc:
            if _error_code(exc) in _MISSING:
                return False
            raise ObjectStoreError(f"S3 head {self._where(full)} failed: {exc}") from exc
        return True

    async def open_path(self, key: str) -> Path | None:
        self._key(key)
        return None

    async def delete_prefix(self, prefix: str) -> int:
        """Delete every object under ``prefix``, 1000 keys per request (the S3 maximum)."""
        full = self.prefix + validate_key(prefix, prefix=True)
        client = self._client_or_raise()
        removed = 0
        paginator = client.get_paginator("list_objects_v2")
        async for page in paginator.paginate(Bucket=self.bucket, Prefix=full):
            keys = [{"Key": item["Key"]} for item in page.get("Contents", [])]
            for start in range(0, len(keys), 1000):
                batch = keys[start : start + 1000]
                response = await client.delete_objects(
                    Bucket=self.bucket, Delete={"Objects": batch, "Quiet": True}
                )
                failed = response.get("Errors") or []
                if failed:
                    raise ObjectStoreError(
                        f"S3 delete under {self._where(full)} failed for {len(failed)} objects"
                    )
                removed += len(batch)
        return removed


def make_object_store(
    url: str | None, data_dir: Path, *, s3: S3Settings | None = None
) -> LocalObjectStore | S3ObjectStore:
    """``s3://bucket/prefix`` -> `S3ObjectStore`; ``file:///path`` -> a local store there;
    None or empty -> a `LocalObjectStore` under ``data_dir/objects``."""
    max_bytes = (s3 or S3Settings()).max_object_bytes
    if not url:
        return LocalObjectStore(Path(data_dir) / "objects", max_object_bytes=max_bytes)
    parts = urlsplit(url)
    if parts.scheme == "s3":
        return S3ObjectStore(url, s3)
    if parts.scheme == "file":
        if not parts.path:
            raise ValueError(f"file URL without a path: {url!r}")
        return LocalObjectStore(Path(parts.path), max_object_bytes=max_bytes)
    raise ValueError(f"unsupported object store URL {url!r} (use s3://bucket/prefix or file:///path)")

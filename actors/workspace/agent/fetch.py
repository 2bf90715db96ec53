"""Fetching a run's attached files through their signed URLs, bounded in time and size.

The worker has no store access: a file is whatever its signed URL serves. The URL itself
is a credential until it expires, so it is never logged; failures name the file instead.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

import aiohttp

from .envelope import AttachedFile

__all__ = ["FileFetchError", "fetch_file", "fetch_files"]

log = logging.getLogger(__name__)

_READ_CHUNK = 64 * 1024


class FileFetchError(Exception):
    """An attached file could not be fetched; names the file, never its URL."""

    def __init__(self, file_id: str, name: str, message: str) -> None:
        super().__init__(f"file {name} ({file_id}): {message}")
        self.file_id = file_id
        self.name = name
        self.message = message

    def __reduce__(self) -> tuple[type[FileFetchError], tuple[str, str, str]]:
        return (FileFetchError, (self.file_id, self.name, self.message))


async def fetch_file(
    http: aiohttp.ClientSession,
    file: AttachedFile,
    *,
    timeout: float,  # noqa: ASYNC109 (per file, to aiohttp.ClientTimeout; names the file)
    max_bytes: int,
) -> bytes:
    """The file's bytes; raises ``FileFetchError`` (refused, missing, too large, too slow)."""
    try:
        async with http.get(
            file.url, timeout=aiohttp.ClientTimeout(total=timeout), allow_redirects=False
        ) as response:
            if response.status == 403:
                raise FileFetchError(file.id, file.name, "the signed URL was refused (expired or invalid)")
            if response.status != 200:
                raise FileFetchError(file.id, file.name, f"the file server answered HTTP {response.status}")
            if response.content_length is not None and response.content_length > max_bytes:
                raise FileFetchError(file.id, file.name, f"larger than {max_bytes} bytes")
            body = bytearray()
            async for piece in response.content.iter_chunked(_READ_CHUNK):
                body += piece
                # A server that lies about (or omits) its length is still cut off here.
                if len(body) > max_bytes:
                    raise FileFetchError(file.id, file.name, f"larger than {max_bytes} bytes")
            return bytes(body)
    except TimeoutError:
        raise FileFetchError(file.id, file.name, f"not fetched within {timeout:g} s") from None
    except aiohttp.ClientError as exc:
        raise FileFetchError(file.id, file.name, f"fetching failed: {type(exc).__name__}") from exc


async def fetch_files(
    http: aiohttp.ClientSession,
    files: Sequence[AttachedFile],
    *,
    timeout: float,  # noqa: ASYNC109 (per file, to aiohttp.ClientTimeout; names the file)
    max_bytes: int,
    concurrency: int,
) -> list[bytes]:
    """All files' bytes in the given order, at most ``concurrency`` at once; the first
    failure cancels the rest and is raised."""
    if not files:
        return []
    gate = asyncio.Semaphore(max(1, concurrency))

    async def one(file: AttachedFile) -> bytes:
        async with gate:
            return await fetch_file(http, file, timeout=timeout, max_bytes=max_bytes)

    tasks = [asyncio.create_task(one(file), name=f"fetch {file.id}") for file in files]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
    finally:
        # Reached with tasks pending on a failure, or when we are cancelled ourselves.
        for task in tasks:
            if not task.done():
                task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    for task in tasks:  # the first failure in file order (cancelled ones were not failures)
        error = None if task.cancelled() else task.exception()
        if error is not None:
            raise error
    return [task.result() for task in tasks]

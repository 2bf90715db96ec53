"""The workspace operations that need no live session: projects, session lists, files.

Both session clients (cluster and in-process) use this with their own store access,
object store and extractor (a Ray task, or a thread), so the rules live in one place.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from datetime import datetime

from storage.objects import ObjectStore
from storage.workspace import FileRecord, WorkspaceStore
from storage.workspace import NotFound as StoreNotFound

from . import answers
from .answers import QuotaAnswer
from .bodies import NewProjectBody, ProjectPatchBody
from .errors import SignatureInvalid
from .projects import (
    Extractor,
    create_project,
    delete_file,
    delete_project,
    index_file,
    owned_file,
    owned_project,
    patch_project,
    sweep_stale_indexing,
    upload_file,
)
from .quota import window
from .settings import WorkspaceSettings
from .signing import verify

__all__ = ["WorkspaceFront"]

log = logging.getLogger(__name__)


class WorkspaceFront:
    def __init__(
        self, store: WorkspaceStore, objects: ObjectStore, settings: WorkspaceSettings, extract: Extractor
    ) -> None:
        self.store = store
        self.objects = objects
        self.settings = settings
        self._extract = extract
        self._indexing: set[asyncio.Task[FileRecord | None]] = set()

    async def create_project(self, user: str, body: NewProjectBody) -> answers.Project:
        return await create_project(self.store, user, body)

    async def list_projects(self, user: str, limit: int, offset: int) -> list[answers.Project]:
        return [answers.Project.of(p) for p in await self.store.list_projects(user, limit, offset)]

    async def get_project(self, user: str, project_id: str) -> answers.Project:
        return answers.Project.of(await owned_project(self.store, user, project_id, "projectId"))

    async def update_project(self, user: str, project_id: str, body: ProjectPatchBody) -> answers.Project:
        return await patch_project(self.store, user, project_id, body)

    async def delete_project(self, user: str, project_id: str) -> None:
        await delete_project(self.store, self.objects, user, project_id)

    async def list_sessions(
        self, user: str, project_id: str, limit: int, offset: int
    ) -> list[answers.WorkspaceSession]:
        await owned_project(self.store, user, project_id)
        found = await self.store.list_sessions(project_id, limit, offset)
        return [answers.WorkspaceSession.of(s) for s in found]

    async def upload_file(
        self, user: str, project_id: str, name: str, content_type: str, data: bytes
    ) -> answers.File:
        record = await upload_file(
            self.store, self.objects, self.settings, user, project_id, name, content_type, data
        )
        task = asyncio.get_running_loop().create_task(self._index(record), name=f"index:{record.id}")
        self._indexing.add(task)
        task.add_done_callback(self._indexing.discard)
        return answers.File.of(record)

    async def _index(self, record: FileRecord) -> FileRecord | None:
        try:
            return await index_file(self.store, self.objects, self.settings, record, self._extract)
        except StoreNotFound:
            # Deleted (with its project or session) while it was being indexed: nothing to do.
            log.info("indexing dropped file=%s: the file was deleted meanwhile", record.id)
            return None
        except Exception:  # the sweeper fails it after the indexing timeout
            log.exception("indexing failed to finish file=%s", record.id)
            return None

    async def list_files(self, user: str, project_id: str, limit: int, offset: int) -> list[answers.File]:
        await owned_project(self.store, user, project_id)
        return [answers.File.of(f) for f in await self.store.list_files(project_id, limit, offset)]

    async def get_file(self, user: str, file_id: str) -> answers.File:
        return answers.File.of(await owned_file(self.store, user, file_id))

    async def delete_file(self, user: str, file_id: str) -> None:
        await delete_file(self.store, self.objects, user, file_id)

    async def download(
        self, file_id: str, path: str, query: Mapping[str, str], now: float
    ) -> tuple[bytes, str, str] | None:
        """A file's bytes, name and type for a signed URL (``path`` and ``query`` as asked):
        ``SignatureError`` when its signature is bad or expired, None when the file is gone."""
        secret = self.settings.signing_secret
        if secret is None:
            raise SignatureInvalid("downloads are not signed on this server")
        verify(path, query, now, secret)
        record = await self.store.get_file(file_id)
        if record is None:
            return None
        data = await self.objects.get(record.object_key)
        return None if data is None else (data, record.content_type, record.name)

    async def quota(self, user: str, now: datetime) -> QuotaAnswer:
        """The user's runs left in the current quota period."""
        policy = self.settings.quota
        period = window(now, policy.period)
        used = await self.store.usage(user, period.key)
        return QuotaAnswer(
            limit=policy.limit,
            used=used,
            remaining=max(0, policy.limit - used),
            period=policy.period.value,
            resets_at=period.resets_at_iso,
        )

    async def sweep(self) -> int:
        return await sweep_stale_indexing(self.store, self.settings.indexing_timeout)

    async def stop(self) -> None:
        for task in list(self._indexing):
            task.cancel()
        await asyncio.gather(*self._indexing, return_exceptions=True)

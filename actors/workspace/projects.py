"""Projects and their files: owner-scoped records, bytes in the object store, indexing to READY.

Indexing runs as a Ray task (text extraction is CPU work that never runs on an event
loop): ``UPLOADED → INDEXING → READY``, or ``FAILED`` with the reason. A file whose
indexing died (its gateway went away) is failed by the sweeper after a timeout, so none
stays ``INDEXING`` forever.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from storage.clock import utc_now_iso
from storage.errors import StoreError
from storage.objects import ObjectStore
from storage.workspace import FileRecord, FileStatus, Project, WorkspaceStore

from ..core.errors import ValidationError
from ..errors import AccessDenied, NotFound
from .answers import Project as ProjectAnswer
from .bodies import NewProjectBody, ProjectPatchBody
from .extract import ExtractionError, ExtractLimits, extract_chunks
from .settings import WorkspaceSettings
from .validation import check_new_project, check_project_patch

__all__ = [
    "Extractor",
    "create_project",
    "delete_file",
    "delete_project",
    "index_file",
    "owned_file",
    "owned_project",
    "run_extraction",
    "sweep_stale_indexing",
    "upload_file",
]

log = logging.getLogger(__name__)

Extractor = Callable[[bytes, str, str, ExtractLimits], Awaitable[list[str]]]
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def run_extraction(data: bytes, name: str, content_type: str, limits: ExtractLimits) -> list[str]:
    """The extraction itself (in a Ray task or a thread): chunks, or ``ExtractionError``."""
    return extract_chunks(data, name, content_type, limits)


async def owned_project(
    store: WorkspaceStore, user: str, project_id: str, field: str = "projectId"
) -> Project:
    project = await store.get_project(project_id)
    if project is None:
        raise NotFound("project", field)
    if project.owner_id != user:
        raise AccessDenied("project", field)
    return project


async def create_project(store: WorkspaceStore, user: str, body: NewProjectBody) -> ProjectAnswer:
    new = check_new_project(body)
    now = utc_now_iso()
    project = Project(str(uuid.uuid4()), user, new.name, new.fiscal_year, new.description, "ACTIVE", now, now)
    await store.create_project(project)
    return ProjectAnswer.of(project)


async def patch_project(
    store: WorkspaceStore, user: str, project_id: str, body: ProjectPatchBody
) -> ProjectAnswer:
    await owned_project(store, user, project_id)
    patch = check_project_patch(body)
    updated = await store.update_project(
        project_id,
        updated_at=utc_now_iso(),
        name=patch.name,
        fiscal_year=patch.fiscal_year,
        description=patch.description,
        status=patch.status.value if patch.status else None,
    )
    return ProjectAnswer.of(updated)


async def delete_project(store: WorkspaceStore, objects: ObjectStore, user: str, project_id: str) -> None:
    """The project and everything in it: sessions, messages, runs, files and their bytes."""
    await owned_project(store, user, project_id)
    await store.delete_project(project_id)
    await objects.delete_prefix(f"projects/{project_id}/")


async def owned_file(store: WorkspaceStore, user: str, file_id: str) -> FileRecord:
    record = await store.get_file(file_id)
    if record is None:
        raise NotFound("file", "fileId")
    if record.owner_id != user:
        raise AccessDenied("file", "fileId")
    return record


async def upload_file(
    store: WorkspaceStore,
    objects: ObjectStore,
    settings: WorkspaceSettings,
    user: str,
    project_id: str,
    name: str,
    content_type: str,
    data: bytes,
) -> FileRecord:
    await owned_project(store, user, project_id)
    if not name or len(name) > 255:
        raise ValidationError("file", "needs a file name of at most 255 characters")
    if len(data) > settings.upload_max_bytes:
        raise ValidationError("file", f"larger than {settings.upload_max_bytes} bytes")
    file_id = str(uuid.uuid4())
    key = f"projects/{project_id}/files/{file_id}/{_SAFE_NAME.sub('_', name)[:120] or 'file'}"
    await objects.put(key, data, content_type)
    now = utc_now_iso()
    record = FileRecord(
        file_id, project_id, user, name, content_type, len(data), key, FileStatus.UPLOADED, now, now
    )
    await store.create_file(record)
    return record


async def index_file(
    store: WorkspaceStore,
    objects: ObjectStore,
    settings: WorkspaceSettings,
    record: FileRecord,
    extract: Extractor,
) -> FileRecord:
    """Move an uploaded file to READY (its chunks stored) or FAILED with the reason."""
    await store.set_file_status(record.id, FileStatus.INDEXING, updated_at=utc_now_iso())
    data = await objects.get(record.object_key)
    try:
        if data is None:
            raise ValueError("the file's bytes are gone from the object store")
        chunks = await extract(data, record.name, record.content_type, settings.extract)
    except (ExtractionError, ValueError) as exc:
        log.info("indexing failed file=%s: %s", record.id, exc)
        return await store.set_file_status(
            record.id, FileStatus.FAILED, updated_at=utc_now_iso(), reason=str(exc)
        )
    return await store.put_chunks(record.id, chunks, updated_at=utc_now_iso())


async def delete_file(store: WorkspaceStore, objects: ObjectStore, user: str, file_id: str) -> None:
    record = await owned_file(store, user, file_id)
    await store.delete_file(file_id)
    await objects.delete_prefix(record.object_key.rsplit("/", 1)[0] + "/")


async def sweep_stale_indexing(store: WorkspaceStore, stale_after: float) -> int:
    """Fail files stuck ``INDEXING`` longer than ``stale_after`` seconds (their indexer died)."""
    cutoff = (datetime.now(UTC) - timedelta(seconds=stale_after)).isoformat(timespec="milliseconds")
    stale = await store.stale_indexing(cutoff.replace("+00:00", "Z"))
    for record in stale:
        try:
            await store.set_file_status(
                record.id,
                FileStatus.FAILED,
                updated_at=utc_now_iso(),
                reason="indexing did not finish in time",
            )
        except StoreError as exc:  # it became READY meanwhile: nothing to fail
            log.info("stale file moved on file=%s: %s", record.id, exc)
    return len(stale)

"""Durable state of the workspace: projects, sessions, messages, runs, files and the quota ledger.

Typical use::

    store = make_workspace_store(settings.database_url, settings.data_dir)
    async with store:
        outcome = await store.reserve(user, period_key, limit, run_id, resets_at=..., created_at=...)
        if isinstance(outcome, QuotaExceeded):
            ...  # 429 with outcome.limit, outcome.used, outcome.resets_at

Importing this package pulls in neither driver: the backends load when the factory runs.
"""

from .base import Conflict as Conflict
from .base import IllegalTransition as IllegalTransition
from .base import NotFound as NotFound
from .base import RunInProgress as RunInProgress
from .base import WorkspaceStore as WorkspaceStore
from .base import WorkspaceStoreError as WorkspaceStoreError
from .factory import make_workspace_store as make_workspace_store
from .records import ACTIVE_RUN_STATUSES as ACTIVE_RUN_STATUSES
from .records import FILE_TRANSITIONS as FILE_TRANSITIONS
from .records import RUN_TRANSITIONS as RUN_TRANSITIONS
from .records import Chunk as Chunk
from .records import FileRecord as FileRecord
from .records import FileStatus as FileStatus
from .records import Message as Message
from .records import MessageRole as MessageRole
from .records import Project as Project
from .records import QuotaExceeded as QuotaExceeded
from .records import QuotaReservation as QuotaReservation
from .records import ReservationState as ReservationState
from .records import Run as Run
from .records import RunStatus as RunStatus
from .records import WorkspaceSession as WorkspaceSession

__all__ = [
    "ACTIVE_RUN_STATUSES",
    "FILE_TRANSITIONS",
    "RUN_TRANSITIONS",
    "Chunk",
    "Conflict",
    "FileRecord",
    "FileStatus",
    "IllegalTransition",
    "Message",
    "MessageRole",
    "NotFound",
    "Project",
    "QuotaExceeded",
    "QuotaReservation",
    "ReservationState",
    "Run",
    "RunInProgress",
    "RunStatus",
    "WorkspaceSession",
    "WorkspaceStore",
    "WorkspaceStoreError",
    "make_workspace_store",
]

"""Durable state of the design engine: programs, designs, design sessions, event logs."""

from .base import Conflict as Conflict
from .base import EngineStore as EngineStore
from .base import EngineStoreError as EngineStoreError
from .base import NotFound as NotFound
from .base import StaleRevision as StaleRevision
from .factory import make_engine_store as make_engine_store
from .migrations import MIGRATIONS as MIGRATIONS
from .migrations import Migration as Migration
from .records import Design as Design
from .records import DesignSessionRecord as DesignSessionRecord
from .records import LifecycleState as LifecycleState
from .records import Program as Program
from .records import ProgramMember as ProgramMember
from .records import StoredEvent as StoredEvent

__all__ = [
    "MIGRATIONS",
    "Conflict",
    "Design",
    "DesignSessionRecord",
    "EngineStore",
    "EngineStoreError",
    "LifecycleState",
    "Migration",
    "NotFound",
    "Program",
    "ProgramMember",
    "StaleRevision",
    "StoredEvent",
    "make_engine_store",
]

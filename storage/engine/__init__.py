"""Durable state of the design engine: programs, designs, design sessions, event logs, and
the PLM records (items, BOM lines, requirement links, ECOs) that sessions materialize."""

from .base import Conflict as Conflict
from .base import EngineStore as EngineStore
from .base import EngineStoreError as EngineStoreError
from .base import InvalidPlan as InvalidPlan
from .base import NotFound as NotFound
from .base import StaleRevision as StaleRevision
from .factory import make_engine_store as make_engine_store
from .migrations import MIGRATIONS as MIGRATIONS
from .migrations import Migration as Migration
from .plan import ITEM_TYPES as ITEM_TYPES
from .plan import CreatedItem as CreatedItem
from .plan import MaterializationOutcome as MaterializationOutcome
from .plan import MaterializationPlan as MaterializationPlan
from .plan import PlannedLine as PlannedLine
from .plan import PlannedPart as PlannedPart
from .plan import PlannedRequirement as PlannedRequirement
from .records import BomLine as BomLine
from .records import Design as Design
from .records import DesignSessionRecord as DesignSessionRecord
from .records import Eco as Eco
from .records import Item as Item
from .records import ItemKind as ItemKind
from .records import LifecycleState as LifecycleState
from .records import Program as Program
from .records import ProgramMember as ProgramMember
from .records import RequirementLink as RequirementLink
from .records import StoredEvent as StoredEvent

__all__ = [
    "ITEM_TYPES",
    "MIGRATIONS",
    "BomLine",
    "Conflict",
    "CreatedItem",
    "Design",
    "DesignSessionRecord",
    "Eco",
    "EngineStore",
    "EngineStoreError",
    "InvalidPlan",
    "Item",
    "ItemKind",
    "LifecycleState",
    "MaterializationOutcome",
    "MaterializationPlan",
    "Migration",
    "NotFound",
    "PlannedLine",
    "PlannedPart",
    "PlannedRequirement",
    "Program",
    "ProgramMember",
    "RequirementLink",
    "StaleRevision",
    "StoredEvent",
    "make_engine_store",
]

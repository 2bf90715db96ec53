"""Store calls on a link (design engine, workspace): which method, and records as tagged maps (pure).

A record crosses as ``{"~": type name, field: value, ...}``, recursively (a plan holds
planned items, an outcome holds the saved session). A plain map that happens to have a
``"~"`` key (user JSON) is escaped as ``{"~": "~map", "v": {...}}``, so user data can
never pose as a record.
"""

from __future__ import annotations

import dataclasses
from enum import Enum, IntEnum
from typing import Any

from storage.engine import (
    BomLine,
    CreatedItem,
    Design,
    DesignSessionRecord,
    Eco,
    Item,
    ItemKind,
    LifecycleState,
    MaterializationOutcome,
    MaterializationPlan,
    PlannedLine,
    PlannedPart,
    PlannedRequirement,
    Program,
    ProgramMember,
    RequirementLink,
    StoredEvent,
)
from storage.workspace import (
    Chunk,
    FileRecord,
    FileStatus,
    Message,
    MessageRole,
    Project,
    QuotaExceeded,
    QuotaReservation,
    ReservationState,
    Run,
    RunStatus,
    WorkspaceSession,
)

__all__ = ["WORKSPACE_METHODS", "EngineMethod", "from_wire", "to_wire"]

# The workspace store's methods callable over a link (by name, from this list only).
WORKSPACE_METHODS = frozenset(
    {
        "create_project",
        "get_project",
        "list_projects",
        "update_project",
        "set_project_github",
        "delete_project",
        "create_session",
        "get_session",
        "list_sessions",
        "update_session",
        "delete_session",
        "append_message",
        "get_message",
        "history",
        "list_messages",
        "create_run",
        "get_run",
        "running_run",
        "update_run",
        "unfinished_runs",
        "create_file",
        "get_file",
        "get_files",
        "list_files",
        "set_file_status",
        "put_chunks",
        "get_chunks",
        "delete_file",
        "stale_indexing",
        "reserve",
        "confirm",
        "release",
        "get_reservation",
        "usage",
    }
)

_TAG = "~"
_ESCAPED = "~map"
_RECORDS: dict[str, type[Any]] = {
    cls.__name__: cls
    for cls in (
        BomLine,
        CreatedItem,
        Design,
        DesignSessionRecord,
        Eco,
        Item,
        MaterializationOutcome,
        MaterializationPlan,
        PlannedLine,
        PlannedPart,
        PlannedRequirement,
        Program,
        ProgramMember,
        RequirementLink,
        StoredEvent,
        Chunk,
        FileRecord,
        Message,
        Project,
        QuotaExceeded,
        QuotaReservation,
        Run,
        WorkspaceSession,
    )
}
# Fields whose values are enums (sent as their values).
_ENUMS: dict[type[Any], dict[str, type[Enum]]] = {
    Design: {"lifecycle_state": LifecycleState},
    Item: {"kind": ItemKind},
    CreatedItem: {"kind": ItemKind},
    Message: {"role": MessageRole},
    Run: {"status": RunStatus},
    FileRecord: {"status": FileStatus},
    QuotaReservation: {"state": ReservationState},
}


class EngineMethod(IntEnum):
    CREATE_PROGRAM = 101
    GET_PROGRAM = 102
    LIST_PROGRAMS = 103
    MEMBER_ROLE = 104
    CREATE_DESIGN = 105
    GET_DESIGN = 106
    LIST_DESIGNS = 107
    SET_DESIGN_STATE = 108
    CREATE_SESSION = 109
    GET_SESSION = 110
    LIST_SESSIONS = 111
    SAVE_SESSION_WITH_EVENTS = 112
    DELETE_SESSION = 113
    READ_EVENTS = 114
    LAST_EVENT_ID = 115
    ADD_MEMBER = 116
    SEARCH_ITEMS = 117
    GET_ITEM = 118
    GET_ITEMS = 119
    GET_ECO = 120
    DESIGN_BOM = 121
    ITEM_REQUIREMENTS = 122
    MATERIALIZE = 123
    WORKSPACE = 200  # [method name from WORKSPACE_METHODS, args, kwargs]


def to_wire(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {f.name: to_wire(getattr(value, f.name)) for f in dataclasses.fields(value)}
        return {_TAG: type(value).__name__, **fields}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, (list, tuple)):
        return [to_wire(item) for item in value]
    if isinstance(value, dict):
        plain = {key: to_wire(item) for key, item in value.items()}
        return {_TAG: _ESCAPED, "v": plain} if _TAG in value else plain
    return value


def from_wire(value: Any) -> Any:
    if isinstance(value, list):
        return [from_wire(item) for item in value]
    if not isinstance(value, dict):
        return value
    tag = value.get(_TAG)
    if tag == _ESCAPED:
        return {key: from_wire(item) for key, item in value["v"].items()}
    if isinstance(tag, str) and tag in _RECORDS:
        cls = _RECORDS[tag]
        fields = {key: from_wire(item) for key, item in value.items() if key != _TAG}
        for name, enum in _ENUMS.get(cls, {}).items():
            fields[name] = enum(fields[name])
        if cls is Run:
            fields["selected_file_ids"] = tuple(fields["selected_file_ids"])
        return cls(**fields)
    return {key: from_wire(item) for key, item in value.items()}

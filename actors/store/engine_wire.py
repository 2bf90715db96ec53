"""Design-engine store calls on a link: which method, and its records as tagged maps (pure).

A record crosses as ``{"~": type name, field: value, ...}`` (its fields are JSON values or
bytes); only arguments, results and list elements are looked at for the tag, never the
inside of a record's JSON fields, so user JSON cannot pose as a record.
"""

from __future__ import annotations

import dataclasses
from enum import IntEnum
from typing import Any

from storage.engine import Design, DesignSessionRecord, LifecycleState, Program, ProgramMember, StoredEvent

__all__ = ["EngineMethod", "from_wire", "to_wire"]

_TAG = "~"
_RECORDS: dict[str, type[Any]] = {
    cls.__name__: cls for cls in (Design, DesignSessionRecord, Program, ProgramMember, StoredEvent)
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


def to_wire(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
        return {_TAG: type(value).__name__, **{k: _plain(v) for k, v in fields.items()}}
    if isinstance(value, (list, tuple)):
        return [to_wire(item) for item in value]
    return _plain(value)


def _plain(value: Any) -> Any:
    return value.value if isinstance(value, LifecycleState) else value


def from_wire(value: Any) -> Any:
    if isinstance(value, dict) and isinstance(value.get(_TAG), str) and value[_TAG] in _RECORDS:
        fields = {k: v for k, v in value.items() if k != _TAG}
        cls = _RECORDS[value[_TAG]]
        if cls is Design:
            fields["lifecycle_state"] = LifecycleState(fields["lifecycle_state"])
        return cls(**fields)
    if isinstance(value, list):
        return [from_wire(item) for item in value]
    return value

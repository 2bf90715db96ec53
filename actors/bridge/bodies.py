"""What the Bridge's REST routes accept: request bodies and query parameters, typed once (pure).

Each body becomes its operation (``to_op``), so a route reads a body and sends what it
makes; the checks after decoding happen there.

The gateway checks each request against these types (``actors.core.bodies``) and the
published OpenAPI document is generated from them. What a type cannot say is checked after
decoding, where it is said once: a spec's cross references (``spec_check.validate_spec``),
a theme merged over the current one (``theme.parse_theme``), each spec op against the
document as the earlier ops left it (``spec_ops.apply_ops``: an invalid op is reported, not
refused with the request), and limits that are settings (labels, page sizes, op counts).
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from msgspec import Meta

from ..core.bodies import SCHEMA_REF, Body, Query
from . import ops as bridge_ops
from .shapes import Count, Spec, SpecOp, ThemePatch, UIElement
from .spec_check import validate_spec
from .spec_ops import check_op_count
from .theme import DEFAULT_THEME, parse_theme
from .versions import VERSION_BEFORE_HEADER, check_label, valid_ref

__all__ = [
    "MAX_DESCRIPTION_CHARS",
    "MAX_NAME_CHARS",
    "MAX_TEXT_CHARS",
    "VERSION_BEFORE_HEADER",
    "AgentBody",
    "CreateSessionBody",
    "CreateVersionBody",
    "Cursor",
    "OpsBody",
    "PageQuery",
    "PresenceBody",
    "Spec",
    "SpecOp",
    "ThemePatch",
    "UIElement",
    "valid_ref",
    "version_label",
]

MAX_NAME_CHARS = 200
MAX_DESCRIPTION_CHARS = 5000
MAX_TEXT_CHARS = 200  # an agent id, name or status

AgentId = Annotated[str, Meta(min_length=1, max_length=MAX_TEXT_CHARS, description="For the audit log.")]
Text = Annotated[str, Meta(max_length=MAX_TEXT_CHARS)]


class CreateSessionBody(Body, frozen=True):
    name: Annotated[str, Meta(max_length=MAX_NAME_CHARS)] | None = None
    description: Annotated[str, Meta(max_length=MAX_DESCRIPTION_CHARS)] | None = None
    spec: Spec | None = None
    theme: ThemePatch | None = None

    def to_op(self) -> bridge_ops.CreateSession:
        """The new session, its spec's references and its theme checked in full."""
        spec = validate_spec(msgspec.to_builtins(self.spec)) if self.spec else {"root": "", "elements": {}}
        theme = parse_theme(msgspec.to_builtins(self.theme), DEFAULT_THEME) if self.theme else DEFAULT_THEME
        return bridge_ops.CreateSession.new(self.name or "Untitled", self.description or "", spec, theme)


_OPS_ITEMS = Meta(
    description="Spec operations. An invalid one is reported in `errors` and skipped; the others "
    "still apply, all in one update.",
    extra_json_schema={"items": {"$ref": SCHEMA_REF.format(name="SpecOp")}},
)


class OpsBody(Body, frozen=True):
    # Each op is checked alone, against the document (``apply_ops``), so one bad op is
    # reported in the answer instead of refusing the request: here they are any objects.
    ops: Annotated[list[Any], _OPS_ITEMS]
    agent_id: AgentId | None = None
    expected_revision: (
        Annotated[
            Count, Meta(description="Apply only if the session is still at this revision (409 otherwise).")
        ]
        | None
    ) = None

    def to_op(
        self, session_id: str, *, max_ops: int, version_before: str | None = None
    ) -> bridge_ops.ApplyOps:
        """``max_ops`` is the setting's; ``version_before`` a checked label (``version_label``)."""
        check_op_count(self.ops, max_ops)
        return bridge_ops.ApplyOps(
            session_id, list(self.ops), self.agent_id, self.expected_revision, version_before
        )


class Cursor(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    """A cursor target; other fields a client sends are ignored."""

    element_key: str


class PresenceBody(Body, frozen=True):
    agent_id: AgentId
    name: Text | None = None
    cursor: Cursor | None = None
    status: Text | None = None

    def to_op(self, session_id: str) -> bridge_ops.SetPresence:
        cursor = None if self.cursor is None else {"elementKey": self.cursor.element_key[:MAX_TEXT_CHARS]}
        return bridge_ops.SetPresence(session_id, self.agent_id, self.name, cursor, self.status)


class CreateVersionBody(Body, frozen=True):
    label: Annotated[str, Meta(description="At most the server's label limit.")] | None = None
    agent_id: AgentId | None = None

    def to_op(self, session_id: str, *, max_label_chars: int) -> bridge_ops.CreateVersion:
        return bridge_ops.CreateVersion(session_id, version_label(self.label, max_label_chars), self.agent_id)


def version_label(value: str | None, limit: int, field: str = "label") -> str:
    """A version's label within the setting's limit (``""`` for none)."""
    return check_label(value, limit, field)


class AgentBody(Body, frozen=True):
    """A restore or an undo, attributed to an agent (optional)."""

    agent_id: AgentId | None = None


_Limit = Annotated[Count, Meta(description="At most this many (at most the server's list limit).")]


class PageQuery(Query, frozen=True):
    limit: _Limit | None = None
    offset: Annotated[Count, Meta(description="Skip this many.")] = 0

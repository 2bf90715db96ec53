"""What the Bridge's operations answer, typed once (pure).

Each op in ``ops.py`` names one of these as its answer (``Op[SessionState]``): the host
sends it as plain values and the session client rebuilds and checks it as this type, so a
host that answered a wrong shape fails at the boundary, not in a browser. The gateway
writes them out as JSON (``{"ok": true, ...answer}``) and the OpenAPI document's answer
schemas are generated from the same types.

Fields a client may not see (``UNSET``) are left out of the JSON, not written as null;
fields the spec says may be null are typed ``| None`` and always written.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from msgspec import UNSET, Meta, UnsetType

from storage.bridge.records import SessionRecord

from ..core.answers import Answer
from ..core.bodies import SCHEMA_REF

__all__ = [
    "Answer",
    "ChangeOutcome",
    "OpFailure",
    "OpsOutcome",
    "Presence",
    "SessionMeta",
    "SessionState",
    "Version",
    "VersionDiff",
    "VersionState",
]


class SessionMeta(Answer, frozen=True):
    id: str
    name: str
    description: str
    revision: int
    created_at: str
    updated_at: str

    @classmethod
    def of(cls, record: SessionRecord) -> SessionMeta:
        return cls(
            id=record.id,
            name=record.name,
            description=record.description,
            revision=record.revision,
            created_at=record.created_at,
            updated_at=record.updated_at,
        )


# The document's parts are what its editors wrote (a browser peer can write any JSON into
# them), so they are typed as JSON objects here and their documented shapes are referenced.
_SPEC = Meta(extra_json_schema={"$ref": SCHEMA_REF.format(name="Spec")})
_THEME = Meta(description="The theme's numbers (`hue`, `chroma`, `grayChroma`, `radius`) and `font`.")
_META = Meta(description="The session's metadata (`SessionMeta`) and what editors wrote beside it.")


class SessionState(Answer, frozen=True):
    """The document as the spec's ``UISpec``, the theme, its CSS and the session's meta."""

    spec: Annotated[dict[str, Any], _SPEC]
    theme: Annotated[dict[str, Any], _THEME]
    theme_css: str = msgspec.field(name="themeCSS")
    meta: Annotated[dict[str, Any], _META]


class OpFailure(Answer, frozen=True):
    """An op that was not applied: its index in the request, its kind and why."""

    index: int
    op: str | None
    error: str


class OpsOutcome(Answer, frozen=True):
    revision: int
    applied: int
    errors: list[OpFailure]
    #: The change these ops made, to undo it (null when nothing changed).
    change_id: str | None
    #: The version taken before the ops (``Atelier-Version-Before``).
    version_id: str | UnsetType = UNSET


class Version(Answer, frozen=True):
    id: str
    revision: int
    created_at: str
    author: str
    label: str | None
    kind: str


class VersionState(SessionState, frozen=True):
    """A version's document, with its meta and revision as of the version."""

    version: Version


class VersionDiff(Answer, frozen=True):
    """Elements added, removed and changed; root, state and theme changes."""

    from_: str = msgspec.field(name="from")
    to: str
    diff: dict[str, Any]


class ChangeOutcome(Answer, frozen=True):
    """The revision after a restore or an undo, and the change's id (null when nothing changed)."""

    revision: int
    change_id: str | None
    restored_from: str | UnsetType = UNSET
    #: A restore keeps what it replaced as a version (null when nothing changed).
    version_id: str | UnsetType | None = UNSET
    undid: str | UnsetType = UNSET


#: Every live presence entry: REST agents by id, connected editors by agentId or client id.
Presence = dict[str, dict[str, Any]]

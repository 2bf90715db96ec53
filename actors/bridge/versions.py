"""Versions of a Bridge session (pure): when to take one, which to keep, how to name them."""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from storage.bridge.records import VersionRecord

from ..core.errors import ValidationError
from .settings import VersionSettings

__all__ = [
    "VERSION_BEFORE_HEADER",
    "VersionClock",
    "VersionKind",
    "check_label",
    "new_version_id",
    "select_pruned",
    "valid_ref",
]

# A request header of POST .../ops: take an automatic version of the state before the ops;
# its value (may be empty) is the version's label.
VERSION_BEFORE_HEADER = "Atelier-Version-Before"

_REF = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class VersionKind(StrEnum):
    AUTO = "auto"
    MANUAL = "manual"


def new_version_id() -> str:
    return uuid.uuid4().hex


def valid_ref(ref: str) -> bool:
    """A version or change id as it may appear in a URL."""
    return _REF.match(ref) is not None


def check_label(value: object, limit: int, field: str = "label") -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValidationError(field, "must be a string")
    if len(value) > limit:
        raise ValidationError(field, f"must be at most {limit} characters")
    if "\x00" in value:
        raise ValidationError(field, "must not contain NUL characters")
    return value


@dataclass(slots=True)
class VersionClock:
    """Counts activity since the last version: due after N revisions or T seconds of it.

    T runs from the first change after the last version, so an idle session takes no
    versions and a busy one takes one at least every T.
    """

    every_revisions: int
    every_seconds: float
    revisions: int = 0
    first_change: float | None = None

    @classmethod
    def from_settings(cls, settings: VersionSettings) -> VersionClock:
        return cls(settings.every_revisions, settings.every_seconds)

    def changed(self, revisions: int, now: float) -> None:
        if revisions <= 0:
            return
        self.revisions += revisions
        if self.first_change is None:
            self.first_change = now

    def due(self, now: float) -> bool:
        if self.revisions == 0:
            return False
        if self.every_revisions > 0 and self.revisions >= self.every_revisions:
            return True
        return (
            self.every_seconds > 0
            and self.first_change is not None
            and now - self.first_change >= self.every_seconds
        )

    def taken(self) -> None:
        self.revisions = 0
        self.first_change = None


def select_pruned(versions: Sequence[VersionRecord], keep_auto: int, keep_manual: int) -> list[str]:
    """Ids of the versions retention deletes: the oldest of each kind past its limit.

    ``versions`` are oldest first (as the store lists them).
    """
    doomed: list[str] = []
    for kind, keep in ((VersionKind.AUTO, keep_auto), (VersionKind.MANUAL, keep_manual)):
        of_kind = [v for v in versions if v.kind == kind.value]
        excess = len(of_kind) - keep
        if excess > 0:
            doomed.extend(v.id for v in of_kind[:excess])
    return doomed

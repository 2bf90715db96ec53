"""The workspace's own errors, as the gateway meets them (pure).

``FileSelectionError`` crosses a link as its wire form (``actors/core/errors.py``); a
``SignatureError`` is the gateway's own check of a signed download (403).
"""

from __future__ import annotations

from typing import Any, Self

from ..core.errors import ValidationError

__all__ = ["FileSelectionError", "SignatureError", "SignatureExpired", "SignatureInvalid"]


class FileSelectionError(ValidationError):
    """A selected file cannot be attached (422): ``reason`` is ``not_found`` or ``not_ready``."""

    def __init__(self, field: str, file_id: str, reason: str, message: str) -> None:
        super().__init__(field, message)
        self.file_id = file_id
        self.reason = reason

    def to_json(self) -> dict[str, str]:
        return {**super().to_json(), "fileId": self.file_id, "reason": self.reason}

    def __reduce__(self) -> tuple[type[FileSelectionError], tuple[str, str, str, str]]:
        return (FileSelectionError, (self.field, self.file_id, self.reason, self.message))

    def wire_detail(self) -> Any:
        return {"field": self.field, "fileId": self.file_id, "reason": self.reason}

    @classmethod
    def from_wire(cls, message: str, detail: Any, context: str) -> Self:
        return cls(detail["field"], detail["fileId"], detail["reason"], message)


class SignatureError(Exception):
    """A download URL that must not be served (403)."""


class SignatureInvalid(SignatureError):
    """Missing, malformed or not made with our secret for this path and expiry."""


class SignatureExpired(SignatureError):
    """Made with our secret, but its expiry has passed."""

    def __init__(self, expires_at: int) -> None:
        super().__init__(f"the download URL expired at {expires_at}")
        self.expires_at = expires_at

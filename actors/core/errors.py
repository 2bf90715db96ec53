"""Domain errors raised by the pure cores.

Both carry text meant for the API caller: the gateway turns a ``ValidationError`` into a
400 body via ``to_json()``, and ``apply_ops`` turns either into a per-op error entry.
"""

from __future__ import annotations

__all__ = ["OpError", "ValidationError"]


class ValidationError(Exception):
    """A request value has the wrong shape, type or range.

    ``field`` is a dotted path into the request (``"theme.hue"``,
    ``"ops[2].key"``, ``"spec.elements.heading.children"``) so a caller can
    point at the offending value without parsing the message.
    """

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message

    def to_json(self) -> dict[str, str]:
        return {"error": self.message, "field": self.field}


class OpError(Exception):
    """A well-formed operation that conflicts with the document's current state.

    For example adding a key that already exists or removing the root; the
    message names the field and the key involved.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

"""Errors of the LLM layer; the engine turns `LlmError` into the spec's `error` StageEvent."""

from __future__ import annotations

__all__ = ["LlmError", "LlmTimeout", "ToolArgumentError"]


class LlmError(Exception):
    """The provider failed; `str(error)` is the user-facing message of the `error` event."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class LlmTimeout(LlmError):
    """The model (or its server) did not answer within the configured timeout."""


class ToolArgumentError(ValueError):
    """A tool call's arguments are invalid; `field` is a dotted path such as
    `requirements[2].priority` ("" for the arguments as a whole).

    The message is written for the model: it is sent back as the tool result so it can retry.
    """

    def __init__(self, name: str, field: str, message: str) -> None:
        where = f"{name}: {field}: " if field else f"{name}: "
        super().__init__(where + message)
        self.name = name
        self.field = field
        self.message = message

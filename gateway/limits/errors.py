"""The refusals of the abuse limits, and their one JSON shape."""

from __future__ import annotations

from aiohttp import web

from .bucket import retry_after_header

__all__ = ["LimitExceeded", "limit_response"]


class LimitExceeded(Exception):
    """A request refused by a limit: ``setting`` names the environment variable that sets it."""

    def __init__(
        self, status: int, message: str, setting: str, limit: float, retry_after: float | None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.setting = setting
        self.limit = limit
        self.retry_after = retry_after


def limit_response(exc: LimitExceeded) -> web.Response:
    """``{"error", "code": "limit_exceeded", "limit": {"setting", "value"}, "retryAfter"?}``."""
    body: dict[str, object] = {
        "error": exc.message,
        "code": "limit_exceeded",
        "limit": {"setting": exc.setting, "value": exc.limit},
    }
    headers: dict[str, str] = {}
    if exc.retry_after is not None:
        header = retry_after_header(exc.retry_after)
        body["retryAfter"] = int(header)
        headers["Retry-After"] = header
    return web.json_response(body, status=exc.status, headers=headers)

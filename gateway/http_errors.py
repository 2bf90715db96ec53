"""One middleware turns every domain error into a JSON answer with the right status."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from actors.core.errors import ValidationError
from actors.errors import (
    AccessDenied,
    Conflict,
    NotFound,
    QuotaExhausted,
    SessionNotFound,
    SessionUnavailable,
    TooManyStreams,
    Unprocessable,
)
from actors.workspace.errors import FileSelectionError
from storage import StoreError

from .auth import AuthError, Forbidden, auth_error_response, forbidden_response
from .json_body import BodyError
from .limits.errors import LimitExceeded, limit_response

__all__ = ["error_middleware", "json_error"]

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# Seconds a client should wait before retrying a 503: the outages behind one (a host being
# re-placed, a store reconnecting) last about that long.
UNAVAILABLE_RETRY_AFTER = 1


def json_error(status: int, message: str, /, **extra: object) -> web.Response:
    return web.json_response({"error": message, **extra}, status=status)


def _nul_field(request: web.Request) -> str | None:
    """A path or query parameter holding a NUL character (no store can keep one)."""
    for name, value in request.match_info.items():
        if "\x00" in value:
            return name
    for name, value in request.query.items():
        if "\x00" in name or "\x00" in value:
            return name.replace("\x00", "") or "query"
    return None


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    field = _nul_field(request)
    if field is not None:
        return json_error(400, f"{field}: must not contain NUL characters", field=field)
    try:
        return await handler(request)
    except BodyError as exc:
        return json_error(exc.status, exc.message, **({"field": exc.field} if exc.field else {}))
    except FileSelectionError as exc:  # a ValidationError, but the request was well formed
        return json_error(
            422, f"{exc.field}: {exc.message}", field=exc.field, fileId=exc.file_id, reason=exc.reason
        )
    except ValidationError as exc:
        return json_error(400, f"{exc.field}: {exc.message}", field=exc.field)
    except LimitExceeded as exc:
        return limit_response(exc)
    except TooManyStreams as exc:  # the limits' shape: which setting, and when to retry
        return limit_response(LimitExceeded(429, str(exc), TooManyStreams.SETTING, exc.limit, 1.0))
    except QuotaExhausted as exc:
        response = json_error(
            429, str(exc), quota={"limit": exc.limit, "used": exc.used, "resetsAt": exc.resets_at}
        )
        response.headers["Retry-After"] = str(max(1, exc.retry_after))
        return response
    except SessionNotFound:
        return json_error(404, "Session not found")
    except AuthError as exc:
        return auth_error_response(exc)
    except Forbidden as exc:
        return forbidden_response(exc)
    except AccessDenied as exc:
        return json_error(
            403, f"Not allowed to access this {exc.what}", **({"field": exc.field} if exc.field else {})
        )
    except NotFound as exc:
        message = f"{exc.what[:1].upper()}{exc.what[1:]} not found"
        return json_error(404, message, **({"field": exc.field} if exc.field else {}))
    except Unprocessable as exc:
        return json_error(422, str(exc), **({"field": exc.field} if exc.field else {}))
    except Conflict as exc:
        return json_error(409, str(exc), **exc.detail)
    except (TimeoutError, SessionUnavailable, StoreError) as exc:
        # A bounded call that timed out says nothing by itself: name it.
        detail = str(exc) or f"no answer within the call timeout ({type(exc).__name__})"
        log.warning("unavailable path=%s: %s", request.path, detail)
        response = json_error(503, "Session temporarily unavailable; retry", detail=detail)
        response.headers["Retry-After"] = str(UNAVAILABLE_RETRY_AFTER)
        return response
    except web.HTTPException as exc:
        if exc.status >= 400 and exc.content_type != "application/json":
            return json_error(exc.status, exc.reason)
        raise

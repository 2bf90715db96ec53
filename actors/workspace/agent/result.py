"""The worker's result payload (the run response's ``python``), one shape for every outcome (pure).

::

    {
      "status": "succeeded" | "failed",
      "run_id": str, "session_type": str,
      "output": str,              # the answer (on failure: what was streamed before it)
      "model": str,               # the model that answered, "offline" without one
      "offline": bool,
      "usage": {"prompt_tokens", "completion_tokens", "total_tokens"} | None,
      "files_read": [{"id", "name", "bytes", "chars", "truncated"}],
      "truncated": bool,          # the answer was cut at the output bound
      "duration_ms": int,
      "error": None | {"code": FailureCode, "message": str},
    }

``failure_payload`` is also what the session reports when the worker could not answer at
all (its actor died, the pool timed out), so clients see a single failure shape.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

__all__ = ["FailureCode", "FileRead", "failure_payload", "success_payload"]


class FailureCode(StrEnum):
    TIMEOUT = "timeout"
    FILE_UNAVAILABLE = "file_unavailable"
    FILE_UNREADABLE = "file_unreadable"
    LLM_ERROR = "llm_error"
    UNKNOWN_TYPE = "unknown_type"
    # Set by the session, not the worker: the worker process went away mid-run.
    WORKER_DIED = "worker_died"
    CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True)
class FileRead:
    id: str
    name: str
    bytes: int
    chars: int
    truncated: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "bytes": self.bytes,
            "chars": self.chars,
            "truncated": self.truncated,
        }


def _payload(
    status: str,
    run_id: str,
    session_type: str,
    *,
    output: str,
    model: str,
    offline: bool,
    usage: dict[str, int] | None,
    files_read: Sequence[FileRead],
    truncated: bool,
    duration_ms: int,
    error: dict[str, str] | None,
) -> dict[str, Any]:
    return {
        "status": status,
        "run_id": run_id,
        "session_type": session_type,
        "output": output,
        "model": model,
        "offline": offline,
        "usage": usage,
        "files_read": [f.to_json() for f in files_read],
        "truncated": truncated,
        "duration_ms": duration_ms,
        "error": error,
    }


def success_payload(
    run_id: str,
    session_type: str,
    *,
    output: str,
    model: str,
    offline: bool,
    usage: dict[str, int] | None,
    files_read: Sequence[FileRead],
    truncated: bool = False,
    duration_ms: int = 0,
) -> dict[str, Any]:
    return _payload(
        "succeeded",
        run_id,
        session_type,
        output=output,
        model=model,
        offline=offline,
        usage=usage,
        files_read=files_read,
        truncated=truncated,
        duration_ms=duration_ms,
        error=None,
    )


def failure_payload(
    run_id: str,
    session_type: str,
    code: FailureCode,
    message: str,
    *,
    output: str = "",
    model: str = "offline",
    offline: bool = True,
    usage: dict[str, int] | None = None,
    files_read: Sequence[FileRead] = (),
    duration_ms: int = 0,
) -> dict[str, Any]:
    return _payload(
        "failed",
        run_id,
        session_type,
        output=output,
        model=model,
        offline=offline,
        usage=usage,
        files_read=files_read,
        truncated=False,
        duration_ms=duration_ms,
        error={"code": FailureCode(code).value, "message": message},
    )

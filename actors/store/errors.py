"""The errors the store owner answers with, each registered once for both ends of its link.

The store owner fails a request with ``STORE_ERRORS.to_wire``; the store client rebuilds
the error with ``STORE_ERRORS.from_wire``, so a caller catches the same class (with the
same fields) it would catch from a store opened in its own process. Wire names carry the
store's name where two stores have a class of the same name (``NotFound``, ``Conflict``).
"""

from __future__ import annotations

from typing import Any

from storage import StoreError
from storage import engine as eng
from storage import workspace as work

from ..core.errors import ErrorForms

__all__ = ["STORE_ERRORS"]

STORE_ERRORS = ErrorForms()


def _stale(message: str, detail: Any) -> eng.StaleRevision:
    session_id, expected, actual = detail
    return eng.StaleRevision(str(session_id), int(expected), int(actual))


def _run_in_progress(message: str, detail: Any) -> work.RunInProgress:
    session_id, run_id = detail
    return work.RunInProgress(str(session_id), str(run_id))


def _illegal(message: str, detail: Any) -> work.IllegalTransition:
    what, record_id, current, target = detail
    return work.IllegalTransition(str(what), str(record_id), str(current), str(target))


_add = STORE_ERRORS.register
_add(StoreError, "StoreError")
# Design engine.
_add(eng.EngineStoreError, "EngineStoreError")
_add(eng.NotFound, "engine.NotFound")
_add(eng.Conflict, "engine.Conflict")
_add(eng.InvalidPlan, "InvalidPlan")
_add(eng.StaleRevision, "StaleRevision", lambda e: [e.session_id, e.expected, e.actual], _stale)
# Workspace.
_add(work.WorkspaceStoreError, "WorkspaceStoreError")
_add(work.NotFound, "workspace.NotFound")
_add(work.Conflict, "workspace.Conflict")
_add(work.RunInProgress, "RunInProgress", lambda e: [e.session_id, e.run_id], _run_in_progress)
_add(
    work.IllegalTransition,
    "IllegalTransition",
    lambda e: [e.what, e.record_id, e.current, e.target],
    _illegal,
)

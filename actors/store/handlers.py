"""Every operation the store owner answers, registered with its handler.

A handler takes the request's ``Caller`` (the store, and the link the request came on)
and the op. Adding an operation is its message in ``ops/<store>.py``, its line here and
its one-line method on the client. The Bridge's writes go through the fence
(``Writers``): only the process that last loaded or created a session writes its log.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from storage.workspace import QuotaExceeded

from ..core.ops import OpRegistry
from ..link import Link
from .client import StoreCore
from .ops import StoreOp
from .ops import bridge as b
from .ops import engine as e
from .ops import workspace as w
from .writers import Writers

__all__ = ["STORE_OPS", "Caller"]


@dataclass(frozen=True, slots=True)
class Caller:
    """One request's view of the store owner."""

    core: StoreCore
    writers: Writers
    link: Link


STORE_OPS: OpRegistry[Caller, StoreOp[Any]] = OpRegistry()
_r = STORE_OPS.register


# -- Bridge: the handlers that own or fence a session --------------------------------


async def _create(c: Caller, op: b.CreateSession) -> None:
    c.writers.own(op.record.id, c.link)
    await c.core.create_session(op.record, op.initial)


async def _load(c: Caller, op: b.Load) -> object:
    c.writers.own(op.session_id, c.link)
    return await c.core.load(op.session_id)


async def _append(c: Caller, op: b.AppendRows) -> None:
    c.writers.fence(c.link, {row.session_id for row in op.rows})
    await c.core.append(op.rows)


async def _snapshot(c: Caller, op: b.Snapshot) -> None:
    c.writers.fence(c.link, {op.session_id})
    await c.core.snapshot(op.session_id, op.seq, op.data)


async def _delete(c: Caller, op: b.DeleteSession) -> bool:
    c.writers.forget(op.session_id)
    return await c.core.delete_session(op.session_id)


_r(b.CreateSession, _create)
_r(b.GetSession, lambda c, op: c.core.get_session(op.session_id))
_r(b.ListSessions, lambda c, op: c.core.list_sessions(op.limit, op.offset))
_r(b.Load, _load)
_r(b.AppendRows, _append)
_r(b.Snapshot, _snapshot)
_r(b.DeleteSession, _delete)
_r(b.SaveVersion, lambda c, op: c.core.save_version(op.version, op.data))
_r(b.ListVersions, lambda c, op: c.core.list_versions(op.session_id))
_r(b.LoadVersion, lambda c, op: c.core.load_version(op.session_id, op.version_id))
_r(b.DeleteVersions, lambda c, op: c.core.delete_versions(op.session_id, op.version_ids))

# -- design engine ----------------------------------------------------------------------
_r(e.CreateProgram, lambda c, op: c.core.engine.create_program(op.program))
_r(e.GetProgram, lambda c, op: c.core.engine.get_program(op.program_id))
_r(e.ListPrograms, lambda c, op: c.core.engine.list_programs(op.user_id))
_r(e.AddMember, lambda c, op: c.core.engine.add_member(op.program_id, op.user_id, op.role))
_r(e.MemberRole, lambda c, op: c.core.engine.member_role(op.program_id, op.user_id))
_r(e.CreateDesign, lambda c, op: c.core.engine.create_design(op.design))
_r(e.GetDesign, lambda c, op: c.core.engine.get_design(op.design_id))
_r(e.ListDesigns, lambda c, op: c.core.engine.list_designs(op.program_id))
_r(
    e.SetDesignState,
    lambda c, op: c.core.engine.set_design_state(op.design_id, op.state, updated_at=op.updated_at),
)
_r(e.CreateSession, lambda c, op: c.core.engine.create_session(op.record))
_r(e.GetSession, lambda c, op: c.core.engine.get_session(op.session_id))
_r(e.ListSessions, lambda c, op: c.core.engine.list_sessions(op.user_id, op.limit, op.offset))
_r(
    e.SaveSessionWithEvents,
    lambda c, op: c.core.engine.save_session_with_events(op.record, op.expected_revision, op.events),
)
_r(e.DeleteSession, lambda c, op: c.core.engine.delete_session(op.session_id))
_r(e.ReadEvents, lambda c, op: c.core.engine.read_events(op.session_id, op.after_id, op.limit))
_r(e.LastEventId, lambda c, op: c.core.engine.last_event_id(op.session_id))
_r(e.SearchItems, lambda c, op: c.core.engine.search_items(op.owner_id, op.query, op.limit))
_r(e.GetItem, lambda c, op: c.core.engine.get_item(op.item_id))
_r(e.GetItems, lambda c, op: c.core.engine.get_items(op.item_ids))
_r(e.GetEco, lambda c, op: c.core.engine.get_eco(op.eco_id))
_r(e.DesignBom, lambda c, op: c.core.engine.design_bom(op.design_id))
_r(e.ItemRequirements, lambda c, op: c.core.engine.item_requirements(op.item_id))
_r(e.Materialize, lambda c, op: c.core.engine.materialize(op.plan, op.session, op.expected_revision))


# -- workspace --------------------------------------------------------------------------


async def _reserve(c: Caller, op: w.Reserve) -> w.Reserved:
    outcome = await c.core.workspace.reserve(
        op.user_id, op.period_key, op.limit, op.run_id, resets_at=op.resets_at, created_at=op.created_at
    )
    if isinstance(outcome, QuotaExceeded):
        return w.Reserved(exceeded=outcome)
    return w.Reserved(reservation=outcome)


_r(w.CreateProject, lambda c, op: c.core.workspace.create_project(op.project))
_r(w.GetProject, lambda c, op: c.core.workspace.get_project(op.project_id))
_r(w.ListProjects, lambda c, op: c.core.workspace.list_projects(op.owner_id, op.limit, op.offset))
_r(
    w.UpdateProject,
    lambda c, op: c.core.workspace.update_project(
        op.project_id,
        updated_at=op.updated_at,
        name=op.name,
        fiscal_year=op.fiscal_year,
        description=op.description,
        status=op.status,
    ),
)
_r(
    w.SetProjectGithub,
    lambda c, op: c.core.workspace.set_project_github(op.project_id, op.github, updated_at=op.updated_at),
)
_r(w.DeleteProject, lambda c, op: c.core.workspace.delete_project(op.project_id))
_r(w.CreateSession, lambda c, op: c.core.workspace.create_session(op.session))
_r(w.GetSession, lambda c, op: c.core.workspace.get_session(op.session_id))
_r(w.ListSessions, lambda c, op: c.core.workspace.list_sessions(op.project_id, op.limit, op.offset))
_r(
    w.UpdateSession,
    lambda c, op: c.core.workspace.update_session(
        op.session_id, updated_at=op.updated_at, title=op.title, status=op.status
    ),
)
_r(w.DeleteSession, lambda c, op: c.core.workspace.delete_session(op.session_id))
_r(w.AppendMessage, lambda c, op: c.core.workspace.append_message(op.message))
_r(w.GetMessage, lambda c, op: c.core.workspace.get_message(op.message_id))
_r(w.History, lambda c, op: c.core.workspace.history(op.session_id, op.limit))
_r(
    w.ListMessages,
    lambda c, op: c.core.workspace.list_messages(op.session_id, after_seq=op.after_seq, limit=op.limit),
)
_r(w.CreateRun, lambda c, op: c.core.workspace.create_run(op.run))
_r(w.GetRun, lambda c, op: c.core.workspace.get_run(op.run_id))
_r(w.RunningRun, lambda c, op: c.core.workspace.running_run(op.session_id))
_r(
    w.UpdateRun,
    lambda c, op: c.core.workspace.update_run(
        op.run_id, op.status, at=op.at, result=op.result, error=op.error
    ),
)
_r(w.UnfinishedRuns, lambda c, op: c.core.workspace.unfinished_runs(op.created_before))
_r(w.CreateFile, lambda c, op: c.core.workspace.create_file(op.file))
_r(w.GetFile, lambda c, op: c.core.workspace.get_file(op.file_id))
_r(w.GetFiles, lambda c, op: c.core.workspace.get_files(op.file_ids))
_r(w.ListFiles, lambda c, op: c.core.workspace.list_files(op.project_id, op.limit, op.offset))
_r(
    w.SetFileStatus,
    lambda c, op: c.core.workspace.set_file_status(
        op.file_id, op.status, updated_at=op.updated_at, reason=op.reason
    ),
)
_r(w.PutChunks, lambda c, op: c.core.workspace.put_chunks(op.file_id, op.chunks, updated_at=op.updated_at))
_r(w.GetChunks, lambda c, op: c.core.workspace.get_chunks(op.file_id, offset=op.offset, limit=op.limit))
_r(w.DeleteFile, lambda c, op: c.core.workspace.delete_file(op.file_id))
_r(w.StaleIndexing, lambda c, op: c.core.workspace.stale_indexing(op.older_than))
_r(w.Reserve, _reserve)
_r(w.Confirm, lambda c, op: c.core.workspace.confirm(op.run_id, updated_at=op.updated_at))
_r(w.Release, lambda c, op: c.core.workspace.release(op.run_id, updated_at=op.updated_at))
_r(w.GetReservation, lambda c, op: c.core.workspace.get_reservation(op.run_id))
_r(w.Usage, lambda c, op: c.core.workspace.usage(op.user_id, op.period_key))

"""Every operation a session host answers, registered with its handler (``HostCore``'s).

One line per operation: adding one is its message in its API's ``ops`` module, its
``HostCore`` method (which takes the op) and its line here; an op that opens a stream is
registered with ``_s`` and its handler gets the stream's peer too.
"""

from __future__ import annotations

from typing import Any

from ..bridge import ops as bridge
from ..core.ops import Op, OpRegistry, Ping, Subscribe
from ..engine import ops as engine
from ..workspace import ops as work
from .core import HostCore

__all__ = ["HOST_OPS"]

HOST_OPS: OpRegistry[HostCore, Op[Any]] = OpRegistry()


_r = HOST_OPS.register
_s = HOST_OPS.register_stream
# Shared by every API with a document.
_s(Subscribe, HostCore.subscribe)
_r(Ping, HostCore.ping)
# Bridge.
_r(bridge.CreateSession, HostCore.create)
_r(bridge.GetState, HostCore.state)
_r(bridge.ApplyOps, HostCore.apply_ops)
_r(bridge.SetPresence, HostCore.set_presence)
_r(bridge.GetPresence, HostCore.get_presence)
_r(bridge.DeleteSession, HostCore.delete)
_r(bridge.ListVersions, HostCore.list_versions)
_r(bridge.CreateVersion, HostCore.create_version)
_r(bridge.VersionState, HostCore.version_state)
_r(bridge.DiffVersions, HostCore.diff_versions)
_r(bridge.RestoreVersion, HostCore.restore_version)
_r(bridge.UndoChange, HostCore.undo_change)
# Design engine.
_r(engine.CreateDesign, HostCore.create_design)
_r(engine.GetDesign, HostCore.get_design)
_r(engine.PatchDesign, HostCore.patch_design)
_r(engine.ActDesign, HostCore.act_design)
_s(engine.ListenDesign, HostCore.listen_design)
_r(engine.ListEvents, HostCore.list_events)
_r(engine.PreviewMaterialization, HostCore.preview_materialization)
_r(engine.Materialize, HostCore.materialize)
_r(engine.DesignFile, HostCore.design_file)
# Workspace.
_r(work.CreateWork, HostCore.create_work)
_r(work.GetWork, HostCore.get_work)
_r(work.SetWorkStatus, HostCore.work_status)
_r(work.SetWorkTitle, HostCore.work_title)
_r(work.DeleteWork, HostCore.delete_work)
_r(work.WorkHistory, HostCore.work_history)
_r(work.StartRun, HostCore.start_work_run)
_r(work.WaitRun, HostCore.wait_work_run)
_s(work.ListenRun, HostCore.listen_work_run)
_r(work.GetRun, HostCore.get_work_run)
_r(work.CancelRun, HostCore.cancel_work_run)

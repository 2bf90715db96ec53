"""Pure cores of the design engine: stage machine, artifacts, stage events, document layout.

No I/O here (no ray / aiohttp / asyncpg / redis); the host actor and the gateway feed
values in and act on what comes out.
"""

from __future__ import annotations

from .artifacts import ArtifactLimits as ArtifactLimits
from .artifacts import bom_nodes as bom_nodes
from .artifacts import empty_artifacts as empty_artifacts
from .artifacts import find_bom_node as find_bom_node
from .artifacts import materialization_blocker as materialization_blocker
from .artifacts import merge_artifacts as merge_artifacts
from .artifacts import title_from_description as title_from_description
from .artifacts import validate_artifacts as validate_artifacts
from .artifacts import validate_artifacts_patch as validate_artifacts_patch
from .artifacts import validate_bom as validate_bom
from .artifacts import validate_description as validate_description
from .artifacts import validate_requirements as validate_requirements
from .bodies import StageActionBody as StageActionBody
from .doc import append_draft_text as append_draft_text
from .doc import apply_artifacts as apply_artifacts
from .doc import clear_draft as clear_draft
from .doc import read_artifacts as read_artifacts
from .doc import read_draft as read_draft
from .doc import read_stage as read_stage
from .doc import set_stage as set_stage
from .events import ArtifactUpdate as ArtifactUpdate
from .events import ClarificationNeeded as ClarificationNeeded
from .events import EventLog as EventLog
from .events import EventType as EventType
from .events import LlmText as LlmText
from .events import LoggedEvent as LoggedEvent
from .events import Paused as Paused
from .events import StageChange as StageChange
from .events import StageComplete as StageComplete
from .events import StageError as StageError
from .events import StageEvent as StageEvent
from .events import ToolCall as ToolCall
from .events import ToolResult as ToolResult
from .events import UserMessage as UserMessage
from .events import event_from_json as event_from_json
from .events import parse_last_event_id as parse_last_event_id
from .requests import check_answer as check_answer
from .requests import check_part as check_part
from .requests import check_stream_request as check_stream_request
from .stages import Action as Action
from .stages import Decision as Decision
from .stages import DecisionKind as DecisionKind
from .stages import EngineConflict as EngineConflict
from .stages import IllegalAction as IllegalAction
from .stages import IllegalMove as IllegalMove
from .stages import Stage as Stage
from .stages import Status as Status
from .stages import legal_actions as legal_actions
from .stages import plan as plan
from .stages import validate_stage_patch as validate_stage_patch

__all__ = [
    "Action",
    "ArtifactLimits",
    "ArtifactUpdate",
    "ClarificationNeeded",
    "Decision",
    "DecisionKind",
    "EngineConflict",
    "EventLog",
    "EventType",
    "IllegalAction",
    "IllegalMove",
    "LlmText",
    "LoggedEvent",
    "Paused",
    "Stage",
    "StageActionBody",
    "StageChange",
    "StageComplete",
    "StageError",
    "StageEvent",
    "Status",
    "ToolCall",
    "ToolResult",
    "UserMessage",
    "append_draft_text",
    "apply_artifacts",
    "bom_nodes",
    "check_answer",
    "check_part",
    "check_stream_request",
    "clear_draft",
    "empty_artifacts",
    "event_from_json",
    "find_bom_node",
    "legal_actions",
    "materialization_blocker",
    "merge_artifacts",
    "parse_last_event_id",
    "plan",
    "read_artifacts",
    "read_draft",
    "read_stage",
    "set_stage",
    "title_from_description",
    "validate_artifacts",
    "validate_artifacts_patch",
    "validate_bom",
    "validate_description",
    "validate_requirements",
    "validate_stage_patch",
]

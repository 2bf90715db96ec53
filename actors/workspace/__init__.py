"""Pure cores of the workspace: request checks, history, quotas, signed URLs, text extraction.

No I/O here (no ray / aiohttp / asyncpg / redis / storage); the host actor, the indexing
task and the gateway feed values in and act on what comes out. The worker-side agent, which
does fetch files and call a model, lives in ``actors.workspace.agent``; the settings in
``actors.workspace.settings``.
"""

from __future__ import annotations

from .clamps import HISTORY_LIMIT as HISTORY_LIMIT
from .clamps import RUN_HISTORY_LIMIT as RUN_HISTORY_LIMIT
from .clamps import Bound as Bound
from .clamps import clamp as clamp
from .clamps import parse_history_limit as parse_history_limit
from .clamps import parse_run_history_limit as parse_run_history_limit
from .extract import ExtractionError as ExtractionError
from .extract import ExtractLimits as ExtractLimits
from .extract import ExtractReason as ExtractReason
from .extract import FileKind as FileKind
from .extract import chunk_text as chunk_text
from .extract import detect_kind as detect_kind
from .extract import extract_chunks as extract_chunks
from .extract import extract_text as extract_text
from .history import DTO_FIELDS as DTO_FIELDS
from .history import VISIBLE_ROLES as VISIBLE_ROLES
from .history import HistoryTurn as HistoryTurn
from .history import history_dto as history_dto
from .history import message_dto as message_dto
from .history import run_history as run_history
from .quota import Period as Period
from .quota import QuotaPolicy as QuotaPolicy
from .quota import QuotaWindow as QuotaWindow
from .quota import period_key as period_key
from .quota import resets_at as resets_at
from .quota import retry_after_seconds as retry_after_seconds
from .quota import window as window
from .signing import SignatureError as SignatureError
from .signing import SignatureExpired as SignatureExpired
from .signing import SignatureInvalid as SignatureInvalid
from .signing import sign as sign
from .signing import signed_url as signed_url
from .signing import verify as verify
from .validation import FileSelectionError as FileSelectionError
from .validation import NewProject as NewProject
from .validation import NewSession as NewSession
from .validation import ProjectPatch as ProjectPatch
from .validation import ProjectStatus as ProjectStatus
from .validation import RequestLimits as RequestLimits
from .validation import RunRequest as RunRequest
from .validation import SessionStatus as SessionStatus
from .validation import SessionType as SessionType
from .validation import check_file_selection as check_file_selection
from .validation import parse_new_project as parse_new_project
from .validation import parse_new_session as parse_new_session
from .validation import parse_project_patch as parse_project_patch
from .validation import parse_run_request as parse_run_request
from .validation import parse_session_status as parse_session_status
from .validation import parse_session_title as parse_session_title

__all__ = [
    "DTO_FIELDS",
    "HISTORY_LIMIT",
    "RUN_HISTORY_LIMIT",
    "VISIBLE_ROLES",
    "Bound",
    "ExtractLimits",
    "ExtractReason",
    "ExtractionError",
    "FileKind",
    "FileSelectionError",
    "HistoryTurn",
    "NewProject",
    "NewSession",
    "Period",
    "ProjectPatch",
    "ProjectStatus",
    "QuotaPolicy",
    "QuotaWindow",
    "RequestLimits",
    "RunRequest",
    "SessionStatus",
    "SessionType",
    "SignatureError",
    "SignatureExpired",
    "SignatureInvalid",
    "check_file_selection",
    "chunk_text",
    "clamp",
    "detect_kind",
    "extract_chunks",
    "extract_text",
    "history_dto",
    "message_dto",
    "parse_history_limit",
    "parse_new_project",
    "parse_new_session",
    "parse_project_patch",
    "parse_run_history_limit",
    "parse_run_request",
    "parse_session_status",
    "parse_session_title",
    "period_key",
    "resets_at",
    "retry_after_seconds",
    "run_history",
    "sign",
    "signed_url",
    "verify",
    "window",
]

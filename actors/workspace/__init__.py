"""Pure cores of the workspace: request checks, history, quotas, signed URLs, text extraction.

No I/O here (no ray / aiohttp / asyncpg / redis / storage); the host actor, the indexing
task and the gateway feed values in and act on what comes out. The worker-side agent, which
does fetch files and call a model, lives in ``actors.workspace.agent``; the settings in
``actors.workspace.settings``.
"""

from __future__ import annotations

from .bodies import HistoryQuery as HistoryQuery
from .bodies import NewProjectBody as NewProjectBody
from .bodies import NewSessionBody as NewSessionBody
from .bodies import PageQuery as PageQuery
from .bodies import ProjectPatchBody as ProjectPatchBody
from .bodies import ProjectStatus as ProjectStatus
from .bodies import RunBody as RunBody
from .bodies import SessionStatus as SessionStatus
from .bodies import SessionStatusBody as SessionStatusBody
from .bodies import SessionTitleBody as SessionTitleBody
from .bodies import SessionType as SessionType
from .clamps import HISTORY_LIMIT as HISTORY_LIMIT
from .clamps import RUN_HISTORY_LIMIT as RUN_HISTORY_LIMIT
from .clamps import Bound as Bound
from .clamps import clamp as clamp
from .errors import FileSelectionError as FileSelectionError
from .errors import SignatureError as SignatureError
from .errors import SignatureExpired as SignatureExpired
from .errors import SignatureInvalid as SignatureInvalid
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
from .signing import sign as sign
from .signing import signed_url as signed_url
from .signing import verify as verify
from .validation import NewProject as NewProject
from .validation import NewSession as NewSession
from .validation import ProjectPatch as ProjectPatch
from .validation import RequestLimits as RequestLimits
from .validation import RunRequest as RunRequest
from .validation import check_file_selection as check_file_selection
from .validation import check_new_project as check_new_project
from .validation import check_new_session as check_new_session
from .validation import check_project_patch as check_project_patch
from .validation import check_run as check_run
from .validation import check_session_title as check_session_title

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
    "HistoryQuery",
    "HistoryTurn",
    "NewProject",
    "NewProjectBody",
    "NewSession",
    "NewSessionBody",
    "PageQuery",
    "Period",
    "ProjectPatch",
    "ProjectPatchBody",
    "ProjectStatus",
    "QuotaPolicy",
    "QuotaWindow",
    "RequestLimits",
    "RunBody",
    "RunRequest",
    "SessionStatus",
    "SessionStatusBody",
    "SessionTitleBody",
    "SessionType",
    "SignatureError",
    "SignatureExpired",
    "SignatureInvalid",
    "check_file_selection",
    "check_new_project",
    "check_new_session",
    "check_project_patch",
    "check_run",
    "check_session_title",
    "chunk_text",
    "clamp",
    "detect_kind",
    "extract_chunks",
    "extract_text",
    "history_dto",
    "message_dto",
    "period_key",
    "resets_at",
    "retry_after_seconds",
    "run_history",
    "sign",
    "signed_url",
    "verify",
    "window",
]

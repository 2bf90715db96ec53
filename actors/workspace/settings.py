"""Workspace settings: request bounds, quota, uploads and indexing, signed URLs, the agent.

Built once at the entry point (``WorkspaceSettings.from_env``) and passed down; every bound
of the workspace is here. The signing secret is kept out of ``repr``; when it is not set the
entry point generates one into the data directory (as it does the auth secret), so every
gateway and worker of a deployment must share it through the environment.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from ..env import SettingError, env_float, env_int
from ..llm.settings import LlmSettings
from .clamps import HISTORY_LIMIT, RUN_HISTORY_LIMIT, Bound
from .extract import ExtractLimits
from .quota import QuotaPolicy, parse_period
from .signing import MIN_SECRET_BYTES
from .validation import RequestLimits

__all__ = ["AgentSettings", "WorkspaceSettings"]


@dataclass(frozen=True, slots=True)
class AgentSettings:
    """Bounds of one run on a worker."""

    # Seconds a whole run may take (files, model, streaming) before it fails as timed out.
    run_timeout: float = 300.0
    # Seconds to fetch one attached file through its signed URL.
    fetch_timeout: float = 30.0
    # Files fetched at once for one run.
    fetch_concurrency: int = 4
    max_file_bytes: int = 25 * 1024 * 1024
    # Text of one file, and of all files together, that goes into the prompt.
    max_file_chars: int = 40_000
    max_context_chars: int = 120_000
    # Answer text kept (the stream stops being forwarded beyond it, and the run fails).
    max_output_chars: int = 100_000
    # Lines of each file the offline answer quotes.
    offline_quote_lines: int = 3
    # Seconds between two offline output chunks, so the offline stream can be watched.
    offline_delay: float = 0.0
    extract: ExtractLimits = field(default_factory=ExtractLimits)


@dataclass(frozen=True, slots=True)
class WorkspaceSettings:
    history_limit: Bound = HISTORY_LIMIT
    run_history_limit: Bound = RUN_HISTORY_LIMIT
    requests: RequestLimits = field(default_factory=RequestLimits)
    # Projects, sessions and files per listing page.
    list_limit: int = 200
    quota: QuotaPolicy = field(default_factory=QuotaPolicy)
    upload_max_bytes: int = 25 * 1024 * 1024
    extract: ExtractLimits = field(default_factory=ExtractLimits)
    # A file INDEXING for longer is failed by the sweeper (its task died or hangs).
    indexing_timeout: float = 600.0
    sweep_interval: float = 60.0
    # Seconds a signed download URL stays valid: a run's worker fetches right away.
    download_ttl: int = 900
    # None: generated into the data directory at the entry point.
    signing_secret: bytes | None = field(default=None, repr=False)
    # Where workers reach the gateway's download route; None: the gateway's own address.
    public_base_url: str | None = None
    # Worker actors in the run pool.
    workers: int = 2
    agent: AgentSettings = field(default_factory=AgentSettings)
    llm: LlmSettings = field(default_factory=LlmSettings)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> WorkspaceSettings:
        d = cls()
        secret = env.get("ATELIER_WORKSPACE_SIGNING_SECRET", "").strip()
        if secret and len(secret.encode()) < MIN_SECRET_BYTES:
            raise SettingError(f"ATELIER_WORKSPACE_SIGNING_SECRET: must be at least {MIN_SECRET_BYTES} bytes")
        raw_period = env.get("ATELIER_WORKSPACE_QUOTA_PERIOD", "").strip() or d.quota.period.value
        try:
            period = parse_period(raw_period)
        except ValueError as exc:
            raise SettingError(f"ATELIER_WORKSPACE_QUOTA_PERIOD={raw_period!r}: {exc}") from None
        extract = ExtractLimits(
            max_bytes=env_int(env, "ATELIER_WORKSPACE_UPLOAD_MAX_BYTES", d.upload_max_bytes, minimum=1),
            max_pages=env_int(env, "ATELIER_WORKSPACE_MAX_PDF_PAGES", d.extract.max_pages, minimum=1),
            max_chars=env_int(env, "ATELIER_WORKSPACE_MAX_TEXT_CHARS", d.extract.max_chars, minimum=1),
            chunk_chars=env_int(env, "ATELIER_WORKSPACE_CHUNK_CHARS", d.extract.chunk_chars, minimum=100),
            chunk_overlap=env_int(env, "ATELIER_WORKSPACE_CHUNK_OVERLAP", d.extract.chunk_overlap),
            max_chunks=env_int(env, "ATELIER_WORKSPACE_MAX_CHUNKS", d.extract.max_chunks, minimum=1),
        )
        a = d.agent
        return cls(
            requests=RequestLimits(
                max_input_chars=env_int(
                    env, "ATELIER_WORKSPACE_MAX_INPUT_CHARS", d.requests.max_input_chars, minimum=1
                ),
                max_selected_files=env_int(
                    env, "ATELIER_WORKSPACE_MAX_SELECTED_FILES", d.requests.max_selected_files, minimum=0
                ),
            ),
            list_limit=env_int(env, "ATELIER_WORKSPACE_LIST_LIMIT", d.list_limit, minimum=1),
            quota=QuotaPolicy(
                limit=env_int(env, "ATELIER_WORKSPACE_QUOTA_LIMIT", d.quota.limit, minimum=0),
                period=period,
            ),
            upload_max_bytes=extract.max_bytes,
            extract=extract,
            indexing_timeout=env_float(
                env, "ATELIER_WORKSPACE_INDEXING_TIMEOUT", d.indexing_timeout, minimum=1.0
            ),
            sweep_interval=env_float(env, "ATELIER_WORKSPACE_SWEEP_INTERVAL", d.sweep_interval, minimum=0.1),
            download_ttl=env_int(env, "ATELIER_WORKSPACE_DOWNLOAD_TTL", d.download_ttl, minimum=1),
            signing_secret=secret.encode() if secret else None,
            public_base_url=env.get("ATELIER_WORKSPACE_PUBLIC_URL", "").strip() or None,
            workers=env_int(env, "ATELIER_WORKSPACE_WORKERS", d.workers, minimum=1),
            agent=AgentSettings(
                run_timeout=env_float(env, "ATELIER_WORKSPACE_RUN_TIMEOUT", a.run_timeout, minimum=0.1),
                fetch_timeout=env_float(env, "ATELIER_WORKSPACE_FETCH_TIMEOUT", a.fetch_timeout, minimum=0.1),
                max_file_bytes=extract.max_bytes,
                max_file_chars=env_int(env, "ATELIER_WORKSPACE_MAX_FILE_CHARS", a.max_file_chars, minimum=1),
                max_context_chars=env_int(
                    env, "ATELIER_WORKSPACE_MAX_CONTEXT_CHARS", a.max_context_chars, minimum=1
                ),
                max_output_chars=env_int(
                    env, "ATELIER_WORKSPACE_MAX_OUTPUT_CHARS", a.max_output_chars, minimum=1
                ),
                offline_delay=env_float(env, "ATELIER_WORKSPACE_OFFLINE_DELAY", a.offline_delay, minimum=0.0),
                extract=extract,
            ),
            llm=LlmSettings.from_env(env),
        )

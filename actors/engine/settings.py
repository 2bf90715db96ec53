"""Design-engine settings: event log bounds, run limits and the LLM provider's settings."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from ..env import env_float, env_int
from ..llm.settings import LlmSettings
from .cad.params import CadLimits

__all__ = ["EngineSettings"]


@dataclass(frozen=True, slots=True)
class EngineSettings:
    event_memory: int = 2000  # newest events of a session kept in memory for rejoining clients
    replay_page: int = 1000  # events read from the store per page when a client rejoins
    run_timeout: float = 600.0  # seconds a stage run may take before it fails
    draft_max_chars: int = 200_000  # streamed text kept in the document's draft
    max_text_chars: int = 20_000  # description, message, answer, feedback
    list_limit: int = 200  # sessions per page
    commit_retry_max_delay: float = 2.0
    llm: LlmSettings = field(default_factory=LlmSettings)
    cad: CadLimits = field(default_factory=CadLimits)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> EngineSettings:
        d = cls()
        return cls(
            event_memory=env_int(env, "ATELIER_ENGINE_EVENT_MEMORY", d.event_memory, minimum=1),
            replay_page=env_int(env, "ATELIER_ENGINE_REPLAY_PAGE", d.replay_page, minimum=1),
            run_timeout=env_float(env, "ATELIER_ENGINE_RUN_TIMEOUT", d.run_timeout, minimum=0.1),
            draft_max_chars=env_int(env, "ATELIER_ENGINE_DRAFT_MAX_CHARS", d.draft_max_chars, minimum=1),
            max_text_chars=env_int(env, "ATELIER_ENGINE_MAX_TEXT_CHARS", d.max_text_chars, minimum=1),
            list_limit=env_int(env, "ATELIER_ENGINE_LIST_LIMIT", d.list_limit, minimum=1),
            commit_retry_max_delay=env_float(
                env, "ATELIER_ENGINE_COMMIT_RETRY_MAX_DELAY", d.commit_retry_max_delay, minimum=0.01
            ),
            llm=LlmSettings.from_env(env),
            cad=CadLimits(
                max_parts_per_session=env_int(
                    env, "ATELIER_CAD_MAX_PARTS", CadLimits().max_parts_per_session, minimum=1
                ),
                max_triangles=env_int(
                    env, "ATELIER_CAD_MAX_TRIANGLES", CadLimits().max_triangles, minimum=12
                ),
                job_timeout_s=env_float(
                    env, "ATELIER_CAD_JOB_TIMEOUT", CadLimits().job_timeout_s, minimum=0.1
                ),
            ),
        )

"""Choosing the provider at the entry point: a real model when a key is set, else offline."""

from __future__ import annotations

import logging

from ...llm.settings import LlmSettings
from .offline import OfflineProvider
from .provider import LlmProvider
from .tools import SearchFn, ToolRegistry

__all__ = ["make_provider"]

logger = logging.getLogger(__name__)


def make_provider(settings: LlmSettings, search: SearchFn | None = None) -> LlmProvider:
    """The provider for `settings`; `search` is the reuse search behind `search_items`."""
    tools = ToolRegistry(search)
    if settings.online:
        logger.info(
            "LLM provider=openai model=%s base_url=%s", settings.model, settings.base_url or "default"
        )
        # Imported here: the openai package costs every process that loads it ~24 MiB.
        from .openai_provider import OpenAIProvider

        return OpenAIProvider(settings, tools)
    logger.info("LLM provider=offline (no OPENAI_API_KEY)")
    return OfflineProvider(tools, delay=settings.offline_delay)

"""LlmSettings.from_env and the provider choice."""

from __future__ import annotations

import re

import pytest

from actors.engine.llm.factory import make_provider
from actors.engine.llm.offline import OfflineProvider
from actors.engine.llm.openai_provider import OpenAIProvider
from actors.llm.settings import LlmSettings


def test_defaults() -> None:
    settings = LlmSettings.from_env({})
    assert settings == LlmSettings()
    assert settings.api_key is None
    assert not settings.online
    assert settings.model == "gpt-4o-mini"


def test_from_env() -> None:
    settings = LlmSettings.from_env(
        {
            "OPENAI_API_KEY": "sk-test",
            "OPENAI_BASE_URL": "http://127.0.0.1:9/v1",
            "ATELIER_LLM_MODEL": "gpt-4.1",
            "ATELIER_LLM_TIMEOUT": "2.5",
            "ATELIER_LLM_MAX_RETRIES": "0",
            "ATELIER_LLM_MAX_TOOL_ATTEMPTS": "5",
            "ATELIER_LLM_OFFLINE_DELAY": "0.05",
        }
    )
    assert settings.online
    assert (settings.base_url, settings.model, settings.timeout) == ("http://127.0.0.1:9/v1", "gpt-4.1", 2.5)
    assert (settings.max_retries, settings.max_tool_attempts, settings.offline_delay) == (0, 5, 0.05)
    assert "sk-test" not in repr(settings)


def test_blank_values_mean_unset() -> None:
    settings = LlmSettings.from_env(
        {"OPENAI_API_KEY": "  ", "ATELIER_LLM_TIMEOUT": "", "ATELIER_LLM_MODEL": ""}
    )
    assert settings == LlmSettings()


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("ATELIER_LLM_TIMEOUT", "soon", "ATELIER_LLM_TIMEOUT must be a number, got 'soon'"),
        ("ATELIER_LLM_TIMEOUT", "0", "ATELIER_LLM_TIMEOUT must be greater than 0, got '0'"),
        ("ATELIER_LLM_TIMEOUT", "nan", "ATELIER_LLM_TIMEOUT must be greater than 0, got 'nan'"),
        (
            "ATELIER_LLM_MAX_TOOL_ATTEMPTS",
            "2.5",
            "ATELIER_LLM_MAX_TOOL_ATTEMPTS must be an integer, got '2.5'",
        ),
        ("ATELIER_LLM_MAX_TOOL_ATTEMPTS", "0", "ATELIER_LLM_MAX_TOOL_ATTEMPTS must be at least 1, got '0'"),
        ("ATELIER_LLM_OFFLINE_DELAY", "-1", "ATELIER_LLM_OFFLINE_DELAY must be at least 0, got '-1'"),
        ("ATELIER_LLM_MAX_RETRIES", "x", "ATELIER_LLM_MAX_RETRIES must be an integer, got 'x'"),
    ],
)
def test_invalid_numbers_name_the_variable(key: str, value: str, message: str) -> None:
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        LlmSettings.from_env({key: value})


async def test_make_provider_chooses_by_key() -> None:
    offline = make_provider(LlmSettings())
    assert isinstance(offline, OfflineProvider)
    assert (offline.name, offline.offline) == ("offline", True)
    online = make_provider(LlmSettings(api_key="sk-test", base_url="http://127.0.0.1:9/v1"))
    assert isinstance(online, OpenAIProvider)
    assert (online.name, online.offline, online.model) == ("openai", False, "gpt-4o-mini")
    await online.aclose()


def test_openai_provider_needs_a_key() -> None:
    with pytest.raises(ValueError, match="OPENAI_API_KEY"):
        OpenAIProvider(LlmSettings())

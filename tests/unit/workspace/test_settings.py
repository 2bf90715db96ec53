"""Workspace settings from the environment: defaults, overrides, refusals naming the variable."""

from __future__ import annotations

import pytest

from actors.env import SettingError
from actors.workspace.quota import Period
from actors.workspace.settings import WorkspaceSettings


def test_defaults() -> None:
    settings = WorkspaceSettings.from_env({})
    assert settings == WorkspaceSettings()
    assert (settings.history_limit.default, settings.run_history_limit.high) == (50, 50)
    assert settings.signing_secret is None
    assert not settings.llm.online


def test_overrides() -> None:
    env = {
        "ATELIER_WORKSPACE_QUOTA_LIMIT": "5",
        "ATELIER_WORKSPACE_QUOTA_PERIOD": "Day",
        "ATELIER_WORKSPACE_UPLOAD_MAX_BYTES": "1000",
        "ATELIER_WORKSPACE_CHUNK_CHARS": "500",
        "ATELIER_WORKSPACE_CHUNK_OVERLAP": "50",
        "ATELIER_WORKSPACE_SIGNING_SECRET": "k" * 32,
        "ATELIER_WORKSPACE_RUN_TIMEOUT": "12.5",
        "ATELIER_WORKSPACE_WORKERS": "3",
        "OPENAI_API_KEY": "sk-test",
    }
    settings = WorkspaceSettings.from_env(env)
    assert (settings.quota.limit, settings.quota.period) == (5, Period.DAY)
    assert settings.upload_max_bytes == settings.extract.max_bytes == settings.agent.max_file_bytes == 1000
    assert (settings.extract.chunk_chars, settings.extract.chunk_overlap) == (500, 50)
    assert settings.agent.extract == settings.extract
    assert settings.signing_secret == b"k" * 32
    assert "kkkk" not in repr(settings)
    assert (settings.agent.run_timeout, settings.workers, settings.llm.online) == (12.5, 3, True)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("ATELIER_WORKSPACE_QUOTA_PERIOD", "week"),
        ("ATELIER_WORKSPACE_QUOTA_LIMIT", "-1"),
        ("ATELIER_WORKSPACE_SIGNING_SECRET", "short"),
        ("ATELIER_WORKSPACE_RUN_TIMEOUT", "soon"),
        ("ATELIER_WORKSPACE_WORKERS", "0"),
    ],
)
def test_bad_values_name_their_variable(key: str, value: str) -> None:
    with pytest.raises(SettingError, match=key):
        WorkspaceSettings.from_env({key: value})

"""`python -m benchmarks profile --smoke` end to end: a real ``atelier serve``, the smoke fanout
load, py-spy on the gateway, a session host and the store owner for 3 s, and profile.md.

Asserts files and shape only (every process recorded, every table has rows), never timings.
Skipped only when the py-spy executable is absent.
"""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from benchmarks.cli import main
from benchmarks.profiling.pyspy import ROLES, PySpyMissing, find_py_spy
from benchmarks.profiling.report import TITLES


@pytest.fixture(scope="module")
def profiled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    try:
        find_py_spy()
    except PySpyMissing as exc:
        pytest.skip(f"py-spy is not installed: {exc}")
    out = tmp_path_factory.mktemp("profile-smoke")
    assert main(["profile", "--smoke", "--quiet", "--out", str(out)]) == 0
    return out


@pytest.mark.integration
def test_every_process_has_a_flame_graph_and_hot_frames(profiled: Path) -> None:
    data = orjson.loads((profiled / "result.json").read_bytes())
    assert data["run"]["status"] == "ok", data["run"]["error"]
    (step,) = data["run"]["steps"]
    assert step["delivered"] == step["expected"] > 0
    assert [p["role"] for p in data["processes"]] == list(ROLES)
    for process in data["processes"]:
        assert process["errors"] == [], process
        assert (profiled / process["svg"]).stat().st_size > 0
        assert (profiled / process["raw"]).stat().st_size > 0
        assert process["samples"] > 0
        assert process["by_self"], process["role"]
        assert process["by_total"], process["role"]


@pytest.mark.integration
def test_profile_md_has_a_filled_table_per_process(profiled: Path) -> None:
    text = (profiled / "profile.md").read_text()
    assert text.startswith("# Profile: fanout against atelier\n")
    assert "- **result**: offered " in text
    sections = text.split("\n## ")[1:]
    assert [s.split(",")[0] for s in sections] == [TITLES[role] for role in ROLES]
    for section in sections:
        assert "| self | 1 |" in section
        assert "| total | 1 |" in section
        assert ".svg](" in section

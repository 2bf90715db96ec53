"""Target definitions, the npm install check and the REST agent's response check (no servers)."""

from __future__ import annotations

import os
from pathlib import Path

import orjson
import pytest

from benchmarks.loadgen.agent import _problem, ops_body
from benchmarks.targets.npm import needs_install
from benchmarks.targets.servers import DEFAULT_TARGETS, TARGETS, make_target
from benchmarks.wire import WireProtocol


def test_every_default_target_is_defined_with_its_native_protocol_first() -> None:
    assert set(DEFAULT_TARGETS) <= set(TARGETS)
    assert TARGETS["pycrdt"].protocols == (WireProtocol.Y_WEBSOCKET,)
    assert TARGETS["hocuspocus"].protocols[0] is WireProtocol.HOCUSPOCUS
    assert [name for name, info in TARGETS.items() if info.rest_ops] == ["atelier", "atelier-isolated"]
    assert [name for name, info in TARGETS.items() if info.process_per_session] == ["atelier-isolated"]
    assert "atelier-isolated" not in DEFAULT_TARGETS


def test_urls_per_target_and_protocol() -> None:
    atelier = make_target("atelier")
    assert atelier.ws_url(5, WireProtocol.HOCUSPOCUS, "d") == "ws://127.0.0.1:5/ws"
    assert atelier.ws_url(5, WireProtocol.Y_WEBSOCKET, "d") == "ws://127.0.0.1:5/ws/d"
    assert atelier.ops_url(5, "d") == "http://127.0.0.1:5/api/sessions/d/ops"
    assert make_target("hocuspocus").ws_url(5, WireProtocol.HOCUSPOCUS, "d") == "ws://127.0.0.1:5/"
    assert make_target("pycrdt").ws_url(5, WireProtocol.Y_WEBSOCKET, "d") == "ws://127.0.0.1:5/d"


def test_atelier_runs_isolated_from_shared_services(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://elsewhere/db")
    monkeypatch.setenv("RAY_ADDRESS", "10.0.0.1:6379")
    env = make_target("atelier").env(tmp_path)
    assert "DATABASE_URL" not in env
    assert "RAY_ADDRESS" not in env
    assert env["RAY_USAGE_STATS_ENABLED"] == "0"
    chosen = make_target("atelier", {"DATABASE_URL": "postgresql://mine/db"}).env(tmp_path)
    assert chosen["DATABASE_URL"] == "postgresql://mine/db"
    command = make_target("atelier").command(4321, tmp_path)
    assert command[command.index("--host") + 1] == "127.0.0.1"


def test_placement_is_pinned_per_atelier_target(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ATELIER_PLACEMENT", "isolated")  # a shell default must not leak into "atelier"
    assert make_target("atelier").env(tmp_path)["ATELIER_PLACEMENT"] == "dense"
    assert make_target("atelier-isolated").env(tmp_path)["ATELIER_PLACEMENT"] == "isolated"
    # --atelier-env adds settings (the pool size) but cannot turn one target into the other.
    extra = {"ATELIER_PLACEMENT": "dense", "ATELIER_ISOLATED_POOL": "4"}
    env = make_target("atelier-isolated", extra).env(tmp_path)
    assert (env["ATELIER_PLACEMENT"], env["ATELIER_ISOLATED_POOL"]) == ("isolated", "4")


def test_unknown_target() -> None:
    with pytest.raises(ValueError, match="unknown target"):
        make_target("nope")
    with pytest.raises(ValueError, match="unknown target"):
        make_target("atelier-hashed")  # the hashed placement is gone from the server


def test_needs_install_follows_the_lock_file(tmp_path: Path) -> None:
    (tmp_path / "package-lock.json").write_text("{}")
    assert needs_install(tmp_path)
    marker = tmp_path / "node_modules" / ".package-lock.json"
    marker.parent.mkdir()
    marker.write_text("{}")
    os.utime(tmp_path / "package-lock.json", (1, 1))
    assert not needs_install(tmp_path)


def test_ops_body_and_response_check() -> None:
    body = orjson.loads(ops_body("root", "a1", "~B0.1.0.5~", "bench-agent-1"))
    assert body == {
        "ops": [{"op": "set_prop", "key": "root", "prop": "a1", "value": "~B0.1.0.5~"}],
        "agentId": "bench-agent-1",
    }
    assert _problem(200, b'{"ok":true,"revision":3,"applied":1,"errors":[]}') is None
    assert "HTTP 503" in str(_problem(503, b"busy"))
    assert "rejected" in str(_problem(200, b'{"ok":true,"errors":[{"index":0}]}'))
    assert "not JSON" in str(_problem(200, b"<html>"))
    assert "not ok" in str(_problem(200, b'{"ok":false}'))

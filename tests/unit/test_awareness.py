"""Awareness bookkeeping by value: y-protocols clock rules, expiry, owners, UTF-8."""

from __future__ import annotations

import orjson
import pytest

from actors.core.awareness import AwarenessError, AwarenessRegistry, agent_client_id
from actors.protocol.lib0 import Decoder, write_var_string, write_var_uint


def update(*entries: tuple[int, int, object]) -> bytes:
    out = bytearray(write_var_uint(len(entries)))
    for client, clock, state in entries:
        out += write_var_uint(client) + write_var_uint(clock) + write_var_string(orjson.dumps(state).decode())
    return bytes(out)


def decode(data: bytes) -> list[tuple[int, int, object]]:
    decoder = Decoder(data)
    return [
        (decoder.read_var_uint(), decoder.read_var_uint(), orjson.loads(decoder.read_var_string()))
        for _ in range(decoder.read_var_uint())
    ]


def test_newer_clocks_win_and_stale_parts_are_not_forwarded() -> None:
    registry = AwarenessRegistry(timeout=30)
    assert registry.apply(update((1, 0, {"a": 1})), now=0, owner=7) is None  # clock 0 of a new client
    assert decode(registry.apply(update((1, 1, {"a": 1})), now=0, owner=7) or b"") == [(1, 1, {"a": 1})]
    mixed = update((1, 1, {"a": "stale"}), (2, 3, {"name": "Zoë"}))
    assert decode(registry.apply(mixed, now=1, owner=8) or b"") == [(2, 3, {"name": "Zoë"})]
    assert registry.states() == {1: {"a": 1}, 2: {"name": "Zoë"}}
    # A removal at the same clock is accepted, as Yjs does.
    assert decode(registry.apply(update((2, 3, None)), now=2, owner=8) or b"") == [(2, 3, None)]
    assert registry.states() == {1: {"a": 1}}


def test_expiry_and_owner_removal_bump_clocks() -> None:
    registry = AwarenessRegistry(timeout=10)
    registry.apply(update((1, 1, {"x": 1}), (2, 1, {"y": 1})), now=0, owner=5)
    registry.apply(update((3, 4, {"z": 1})), now=8, owner=6)
    assert decode(registry.expire(now=10) or b"") == [(1, 2, None), (2, 2, None)]
    assert decode(registry.remove_owner(6, now=11) or b"") == [(3, 5, None)]
    assert registry.states() == {}
    assert registry.full_update() is None
    registry.forget_removed(now=40)
    # Forgotten entries start over (a client that reconnects much later is welcome).
    assert registry.apply(update((1, 1, {"x": 2})), now=41, owner=5) is not None


def test_server_held_states_for_rest_agents() -> None:
    registry = AwarenessRegistry(timeout=10)
    client = agent_client_id("claude")
    assert client >= 0x8000_0000
    assert client == agent_client_id("claude")
    assert decode(registry.set_state(client, {"agentId": "claude"}, now=0)) == [
        (client, 1, {"agentId": "claude"})
    ]
    assert decode(registry.set_state(client, {"agentId": "claude", "s": 2}, now=1))[0][1] == 2
    assert decode(registry.full_update() or b"") == [(client, 2, {"agentId": "claude", "s": 2})]


@pytest.mark.parametrize("bad", [b"\x01\x01", b"\x01\x01\x01\x03abc", b"\x01\x01\x01\x02[]"])
def test_malformed_updates_are_errors(bad: bytes) -> None:
    with pytest.raises(AwarenessError):
        AwarenessRegistry(timeout=1).apply(bad, now=0, owner=1)

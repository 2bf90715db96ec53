"""Worker plans, expectations and the per-worker recorder, by value."""

from __future__ import annotations

import pytest

from benchmarks.loadgen.plan import (
    AGENT_BASE,
    AgentPlan,
    ClientPlan,
    StepPlan,
    WorkerPlan,
    expected_deliveries,
    split_round_robin,
)
from benchmarks.loadgen.recorder import MAX_ERROR_SAMPLES, Recorder
from benchmarks.markers import encode_marker
from benchmarks.wire import WireProtocol


def test_expected_deliveries_excludes_own_edits_and_spans_rooms() -> None:
    sent = {0: 5, 1: 3, 2: 4, 3: 7, AGENT_BASE: 2}
    room_of = {0: 0, 1: 0, 2: 0, 3: 1, AGENT_BASE: 0}
    receivers = {0: [0, 1, 2], 1: [3, 4]}
    assert expected_deliveries(sent, room_of, receivers) == {
        0: 3 + 4 + 2,
        1: 5 + 4 + 2,
        2: 5 + 3 + 2,
        3: 0,
        4: 7,
    }


def test_split_round_robin_keeps_order_and_covers_everything() -> None:
    assert split_round_robin(list(range(7)), 3) == [[0, 3, 6], [1, 4], [2, 5]]
    assert split_round_robin([1], 2) == [[1], []]
    with pytest.raises(ValueError, match="parts must be >= 1"):
        split_round_robin([1], 0)


def test_plans_round_trip_through_dicts() -> None:
    plan = WorkerPlan(
        worker=1,
        clients=[ClientPlan(0, 0, "ws://127.0.0.1:1/ws", "doc", WireProtocol.Y_WEBSOCKET, 77)],
        agents=[AgentPlan(AGENT_BASE, 0, "http://127.0.0.1:1/api/sessions/doc/ops", "root")],
        lifetime=12.0,
    )
    assert WorkerPlan.from_dict(plan.to_dict()) == plan
    step = StepPlan(step=2, start_ns=5, duration=1.5, client_rate=3.0, agent_rate=1.0)
    assert StepPlan.from_dict(step.to_dict()) == step


def _frame(*markers: str) -> bytes:
    return b"\x00\x02" + "".join(markers).encode()


def test_recorder_counts_distinct_deliveries_and_ignores_echoes() -> None:
    recorder = Recorder()
    recorder.begin(0)
    sent_at = 1_000_000
    data = _frame(
        encode_marker(0, 1, 0, sent_at), encode_marker(0, 1, 1, sent_at), encode_marker(0, 7, 0, sent_at)
    )
    assert recorder.deliver(7, data, sent_at + 2_000_000) == 2  # its own marker is an echo
    assert recorder.deliver(7, data, sent_at + 3_000_000) == 0  # all seen already
    counters = recorder.current
    assert counters.received == {7: 2}
    assert counters.duplicates == 2
    assert counters.latency.count == 2
    assert counters.latency.percentile_ms(0.5) == pytest.approx(2.0, rel=0.02)
    assert counters.last_delivery_ns == sent_at + 2_000_000


def test_recorder_separates_agent_ops_and_stale_markers() -> None:
    recorder = Recorder()
    recorder.begin(1)
    data = _frame(encode_marker(1, AGENT_BASE + 3, 0, 0), encode_marker(0, 2, 9, 0))
    assert recorder.deliver(5, data, 4_000_000) == 1
    assert recorder.current.agent_latency.count == 1
    assert recorder.current.latency.count == 0
    assert recorder.current.stale == 1


def test_recorder_acks_errors_and_sends() -> None:
    recorder = Recorder()
    recorder.begin(0)
    recorder.sent(3, now_ns=100, lag_ns=5_000)
    recorder.sent(3, now_ns=200, lag_ns=0)
    recorder.ack(1_500_000, ok=True)
    recorder.ack(None, ok=True)  # a handshake ack: not an edit
    recorder.ack(2_000_000, ok=False)
    for index in range(MAX_ERROR_SAMPLES + 5):
        recorder.error(f"e{index}")
    counters = recorder.current
    assert counters.sent == {3: 2}
    assert counters.first_send_ns == 100
    assert (counters.acked, counters.rejected) == (1, 1)
    assert counters.ack_latency.count == 1
    assert counters.errors == MAX_ERROR_SAMPLES + 5
    assert len(counters.error_samples) == MAX_ERROR_SAMPLES
    assert recorder.progress() == {
        "sent": 2,
        "received": 0,
        "acked": 1,
        "errors": MAX_ERROR_SAMPLES + 5,
        "api": 0,
    }
    recorder.begin(1)
    assert recorder.current.sent == {}
    assert recorder.total_errors == MAX_ERROR_SAMPLES + 5


def test_editor_plans_number_rooms_from_the_first_room() -> None:
    import random
    from types import SimpleNamespace

    from benchmarks.scenarios.common import editor_plans

    server = SimpleNamespace(
        ws_url=lambda protocol, document: f"ws://127.0.0.1:1/{document}", token_for=lambda user: ""
    )
    ctx = SimpleNamespace(rng=random.Random(1), server=server, protocol=WireProtocol.HOCUSPOCUS)
    first = editor_plans(ctx, ["a", "b"], 2, 4)  # type: ignore[arg-type]
    assert [(p.cid, p.room, p.document) for p in first] == [
        (0, 0, "a"),
        (1, 0, "a"),
        (2, 1, "b"),
        (3, 1, "b"),
    ]
    # Editors added later (sessions grows a batch at a time) never land in an earlier room.
    later = editor_plans(ctx, ["c", "d"], 1, 2, first_cid=4, first_room=2)  # type: ignore[arg-type]
    assert [(p.cid, p.room, p.document) for p in later] == [(4, 2, "c"), (5, 3, "d")]
    assert len({p.yjs_client_id for p in first + later}) == 6
    assert ClientPlan.from_dict(later[0].to_dict()) == later[0]

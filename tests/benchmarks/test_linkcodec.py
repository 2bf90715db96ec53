"""The link-codec measurement: every candidate gives each message back unchanged."""

from __future__ import annotations

import pytest

from benchmarks.cli import main
from benchmarks.linkcodec import CANDIDATES, SAMPLES, measure, render


def test_every_candidate_round_trips_every_message_and_is_timed() -> None:
    results = measure(iterations=20, repeats=1)
    assert set(results) == {c.name for c in CANDIDATES}
    for row in results.values():
        assert set(row) == {s.name for s in SAMPLES}
        assert all(us > 0 for us in row.values())
    table = render(results)
    assert table.count("\n") == len(CANDIDATES) + 1
    assert "msgspec Struct | all" in table
    assert "as shipped | operations" in table


def test_a_typed_decoder_refuses_a_wrong_field_type() -> None:
    import msgspec

    from benchmarks.linkcodec import Frames, _decoder, _encoder

    good = _encoder.encode(Frames(session_id="s", peer_id=1, items=[]))
    assert _decoder.decode(good) == Frames(session_id="s", peer_id=1, items=[])
    bad = msgspec.msgpack.encode(["frames", "s", "not a peer id", []])
    with pytest.raises(msgspec.ValidationError, match=r"Expected `int`, got `str` - at `\$\[2\]`"):
        _decoder.decode(bad)


def test_the_command_refuses_zero_iterations(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["link-codec", "--iterations", "0"]) == 2
    assert "--iterations" in capsys.readouterr().err

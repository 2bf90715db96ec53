"""Remembered outcomes (memory store, injected clock) and what a retry is answered, by value."""

from __future__ import annotations

import orjson
from aiohttp import web

from gateway.limits.idempotency import HEADER, REPLAYED, _answer, _outcome
from gateway.limits.outcomes import MemoryOutcomes, Outcome


async def test_claim_then_finish_then_expire() -> None:
    now = [0.0]
    store = MemoryOutcomes(max_keys=10, clock=lambda: now[0])
    assert await store.claim("k", "fp", ttl=5) is None  # ours to run
    pending = await store.claim("k", "fp", ttl=5)
    assert pending == Outcome("fp")
    done = Outcome("fp", False, 201, "application/json", b'{"id":1}')
    await store.finish("k", done, ttl=60)
    assert await store.claim("k", "fp", ttl=5) == done
    now[0] = 61.0
    assert await store.claim("k", "fp", ttl=5) is None  # the window passed: a new request


async def test_release_forgets_and_the_store_is_bounded() -> None:
    store = MemoryOutcomes(max_keys=2)
    assert await store.claim("a", "x", 60) is None
    await store.release("a")
    assert await store.claim("a", "x", 60) is None
    assert await store.claim("b", "x", 60) is None
    assert await store.claim("c", "x", 60) is None
    assert len(store) == 2
    assert await store.claim("a", "x", 60) is None  # the oldest was forgotten first


def test_outcome_round_trips_through_bytes() -> None:
    for outcome in (
        Outcome("f"),
        Outcome("f", False, 200, "application/json; charset=utf-8", b"\x00\xff{}"),
        Outcome("f", False, 200),
    ):
        assert Outcome.from_bytes(outcome.to_bytes()) == outcome


def test_which_outcomes_are_remembered() -> None:
    ok = web.json_response({"a": 1}, status=201)
    remembered = _outcome(ok, "fp", max_bytes=1000)
    assert remembered is not None
    assert remembered.status == 201
    assert remembered.body == b'{"a": 1}'
    assert not remembered.pending
    for status in (500, 503, 429, 401, 408):
        assert _outcome(web.json_response({}, status=status), "fp", 1000) is None
    conflict = _outcome(web.json_response({"e": 1}, status=409), "fp", 1000)
    assert conflict is not None
    assert conflict.body is not None
    big = _outcome(web.Response(body=b"x" * 2000), "fp", max_bytes=1000)
    assert big == Outcome("fp", False, 200)  # answered, not replayable
    stream = _outcome(web.StreamResponse(status=200), "fp", 1000)
    assert stream == Outcome("fp", False, 200)


def _json(response: web.Response) -> dict[str, object]:
    assert isinstance(response.body, bytes)
    body: dict[str, object] = orjson.loads(response.body)
    return body


def test_what_a_retry_is_answered() -> None:
    done = Outcome("fp", False, 201, "application/json; charset=utf-8", b'{"id":7}')
    replay = _answer(done, "fp")
    assert replay.status == 201
    assert replay.body == b'{"id":7}'
    assert replay.headers[REPLAYED] == "true"
    assert replay.headers["Content-Type"].startswith("application/json")

    other_body = _answer(done, "another")
    assert other_body.status == 422
    assert _json(other_body)["field"] == HEADER

    in_flight = _answer(Outcome("fp"), "fp")
    assert in_flight.status == 409
    assert in_flight.headers["Retry-After"] == "1"
    assert _json(in_flight)["field"] == HEADER

    streamed = _answer(Outcome("fp", False, 200), "fp")
    assert streamed.status == 409
    assert _json(streamed)["firstStatus"] == 200

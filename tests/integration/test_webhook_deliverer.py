"""The webhook deliverer against a local HTTP receiver: signatures, retries, the bounded
queue, and a failing target logged once per episode."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from actors.bridge.settings import WebhookSettings
from actors.bridge.webhooks import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    WebhookDeliverer,
    make_event,
    sign,
    verify,
)

from ..harness import wait_until

pytestmark = pytest.mark.integration

SECRET = "s3cret"


def test_signature_is_hmac_sha256_of_timestamp_and_body() -> None:
    body = b'{"type":"session.created"}'
    signature = sign(SECRET, 1700000000, body)
    # Independently computed: printf '1700000000.{"type":"session.created"}' | openssl sha256 -hmac s3cret
    import hashlib
    import hmac

    expected = hmac.new(b"s3cret", b'1700000000.{"type":"session.created"}', hashlib.sha256).hexdigest()
    assert signature == f"sha256={expected}"
    assert verify(SECRET, "1700000000", body, signature, now=1700000100)
    assert not verify(SECRET, "1700000000", body + b" ", signature, now=1700000100)
    assert not verify("other", "1700000000", body, signature, now=1700000100)
    assert not verify(SECRET, "1700000000", body, signature, now=1700009999)  # too old: a replay
    assert not verify(SECRET, "soon", body, signature, now=1700000100)


class _Target:
    def __init__(self) -> None:
        self.status = 500
        self.seen: list[str] = []

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        assert verify(
            SECRET,
            request.headers[TIMESTAMP_HEADER],
            body,
            request.headers[SIGNATURE_HEADER],
            now=time.time(),
        )
        self.seen.append(request.headers["Atelier-Webhook-Id"])
        return web.Response(status=self.status)


@pytest.fixture
async def target() -> AsyncIterator[tuple[_Target, str]]:
    receiver = _Target()
    app = web.Application()
    app.router.add_post("/", receiver.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        yield receiver, f"http://127.0.0.1:{runner.addresses[0][1]}/"
    finally:
        await runner.cleanup()


async def test_a_failing_target_is_retried_and_logged_once_per_episode(
    target: tuple[_Target, str], caplog: pytest.LogCaptureFixture
) -> None:
    receiver, url = target
    settings = WebhookSettings(
        targets=(url,), secret=SECRET, max_attempts=50, retry_base=0.01, retry_max=0.02
    )
    deliverer = WebhookDeliverer(settings)
    deliverer.start()
    caplog.set_level(logging.INFO, logger="actors.bridge.webhooks")
    try:
        event = make_event("session.created", "s1", {})
        deliverer.emit(event)
        await wait_until(lambda: len(receiver.seen), lambda n: n >= 5)
        receiver.status = 204
        await wait_until(deliverer.stats, lambda s: s["delivered"] == 1)
        assert set(receiver.seen) == {event["id"]}
        warnings = [r for r in caplog.records if "failing" in r.getMessage()]
        recovered = [r for r in caplog.records if "recovered" in r.getMessage()]
        assert len(warnings) == 1
        assert len(recovered) == 1
        assert deliverer.stats() == {"queued": 0, "delivered": 1, "failed": 0, "dropped": 0}
    finally:
        await deliverer.stop()


async def test_the_queue_is_bounded_and_emit_never_waits(target: tuple[_Target, str]) -> None:
    receiver, url = target
    receiver.status = 404  # refused: not retried
    deliverer = WebhookDeliverer(WebhookSettings(targets=(url,), secret=SECRET, queue=3, max_attempts=2))
    # Not started: nothing is sent, the queue only fills, and the oldest events make room.
    for n in range(10):
        deliverer.emit(make_event("session.changed", "s1", {"revision": n}))
    assert deliverer.stats()["queued"] == 3
    assert deliverer.stats()["dropped"] == 7
    deliverer.start()
    try:
        await wait_until(deliverer.stats, lambda s: s["failed"] == 3 and s["queued"] == 0)
        assert len(receiver.seen) == 3  # a 404 is not retried
    finally:
        await deliverer.stop()

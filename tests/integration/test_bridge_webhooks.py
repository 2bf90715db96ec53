"""Signed webhooks end to end: real gateways and Ray hosts, a local receiver over HTTP."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
import pytest
from aiohttp import web

from actors.bridge.settings import WebhookSettings
from actors.bridge.webhooks import EVENT_HEADER, ID_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, verify

from ..harness import Gateway, wait_until

pytestmark = pytest.mark.integration

SECRET = "whsec-test-" + "y" * 24
SPEC: dict[str, Any] = {"root": "r", "elements": {"r": {"type": "Card", "props": {}, "children": []}}}


@dataclass
class Receiver:
    """A webhook target: answers 500 ``fail`` times, or holds requests while ``hold`` is set."""

    url: str = ""
    fail: int = 0
    hold: asyncio.Event | None = None
    held: int = 0
    attempts: list[tuple[str, str]] = field(default_factory=list)  # (event id, verdict)
    events: list[dict[str, Any]] = field(default_factory=list)

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        valid = verify(
            SECRET,
            request.headers[TIMESTAMP_HEADER],
            body,
            request.headers[SIGNATURE_HEADER],
            now=time.time(),
        )
        event = orjson.loads(body)
        assert request.headers[EVENT_HEADER] == event["type"]
        assert request.headers[ID_HEADER] == event["id"]
        if self.hold is not None:
            self.held += 1
            await self.hold.wait()
        if self.fail > 0:
            self.fail -= 1
            self.attempts.append((event["id"], "500"))
            return web.Response(status=500)
        self.attempts.append((event["id"], "ok" if valid else "bad-signature"))
        if valid:
            self.events.append(event)
        return web.Response(status=204 if valid else 401)

    def of(self, kind: str, session_id: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e["type"] == kind and e["sessionId"] == session_id]


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    target = Receiver()
    app = web.Application()
    app.router.add_post("/hook", target.handle)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    target.url = f"http://127.0.0.1:{port}/hook"
    try:
        yield target
    finally:
        if target.hold is not None:
            target.hold.set()
        await runner.cleanup()


def _hooks(url: str) -> WebhookSettings:
    # A long attempt timeout: a held request must stay one attempt however slow the machine.
    return WebhookSettings(
        targets=(url,),
        secret=SECRET,
        debounce=2.0,
        timeout=120.0,
        max_attempts=8,
        retry_base=0.05,
        retry_max=0.5,
        queue=1000,
    )


async def test_events_arrive_signed_and_failed_deliveries_are_retried(
    make_gateway: Callable[..., Awaitable[Gateway]], receiver: Receiver
) -> None:
    receiver.fail = 3  # the first attempts fail: the same event must come again
    gateway = await make_gateway(webhooks=_hooks(receiver.url), presence_timeout=1.0)
    sid = await gateway.create(spec=SPEC)
    created = await wait_until(lambda: receiver.of("session.created", sid), bool)
    assert created[0]["data"]["session"]["id"] == sid
    assert [verdict for _, verdict in receiver.attempts[:4]] == ["500", "500", "500", "ok"]
    assert len({event_id for event_id, _ in receiver.attempts[:4]}) == 1  # one event, retried

    for value in range(3):
        status, _ = await gateway.request(
            "POST",
            f"/api/sessions/{sid}/ops",
            json={"agentId": "claude", "ops": [{"op": "set_prop", "key": "r", "prop": "v", "value": value}]},
        )
        assert status == 200
    changed = await wait_until(
        lambda: receiver.of("session.changed", sid),
        lambda got: bool(got) and got[-1]["data"]["revision"] == 3,
    )
    assert all("agent:claude" in e["data"]["authors"] for e in changed)
    assert len(changed) < 3  # debounced: the three ops did not make three events

    status, _ = await gateway.request("POST", f"/api/sessions/{sid}/presence", json={"agentId": "claude"})
    assert status == 200
    joined = await wait_until(lambda: receiver.of("presence.joined", sid), bool)
    assert joined[0]["data"]["key"] == "claude"
    await wait_until(lambda: receiver.of("presence.left", sid), bool)  # not renewed: it expires

    status, _ = await gateway.request("DELETE", f"/api/sessions/{sid}")
    assert status == 200
    await wait_until(lambda: receiver.of("session.deleted", sid), bool)
    assert all(verdict != "bad-signature" for _, verdict in receiver.attempts)

    async def scrape() -> dict[str, float]:
        assert gateway.http is not None
        async with gateway.http.get("/metrics") as response:
            text = await response.text()
        return {
            line.split()[0]: float(line.split()[1])
            for line in text.splitlines()
            if line.startswith("atelier_webhook_")
        }

    # The hosts' queue and counters reach /metrics (fetched at scrape time).
    metrics = await wait_until(scrape, lambda m: m.get("atelier_webhook_delivered_total", 0) >= 5)
    assert metrics["atelier_webhook_queue"] == 0
    assert metrics["atelier_webhook_dropped_total"] == 0


async def test_edits_are_unaffected_while_the_target_hangs(
    make_gateway: Callable[..., Awaitable[Gateway]], receiver: Receiver
) -> None:
    receiver.hold = asyncio.Event()
    gateway = await make_gateway(webhooks=_hooks(receiver.url))
    sid = await gateway.create(spec=SPEC)
    await wait_until(lambda: receiver.held, lambda held: held >= 1)  # session.created is stuck
    for value in range(20):
        status, body = await asyncio.wait_for(
            gateway.request(
                "POST",
                f"/api/sessions/{sid}/ops",
                json={"ops": [{"op": "set_prop", "key": "r", "prop": "v", "value": value}]},
            ),
            30,
        )
        assert status == 200
        assert body["revision"] == value + 1
    assert receiver.events == []
    assert receiver.held == 1
    receiver.hold.set()
    receiver.hold = None
    changed = await wait_until(
        lambda: receiver.of("session.changed", sid),
        lambda got: bool(got) and got[-1]["data"]["revision"] == 20,
    )
    assert changed[-1]["data"]["authors"] == ["api"]

"""SIGKILL of a host actor under 50-editor load: nothing acknowledged is lost, every client converges.

Fifty Hocuspocus editors (tests/hocus_client.py) split over two sessions on two hosts, three real
@hocuspocus/provider peers and one REST agent per session keep editing while the host of the
first session is killed with SIGKILL. Its sockets are closed with 1012; its editors reconnect
with their documents (as the provider does) and resync; the other host's editors are not
disturbed. Afterwards every acknowledged edit (``SyncStatus(1)``, REST 200) is in the store, and
every client — Python editors and providers — holds exactly the stored document.
"""

from __future__ import annotations

import asyncio
import os
import signal
import statistics
import time
from pathlib import Path
from typing import Any

import pytest
from pycrdt import Text

from ..harness import MakeGateway
from ..interop.npm import ensure_node_modules
from ..interop.peer import NodePeer
from .faults_load import (
    ACK_BOUND,
    Agent,
    Editor,
    LoadStop,
    StallWatch,
    agent_totals,
    editor_totals,
    report,
    stored_doc,
    unstored_props,
)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

EDITORS = 50
PROVIDERS = 3
EDIT_INTERVAL = 0.2  # per editor: ~250 edits/s in all
PROVIDER_INTERVAL = 0.1
AGENT_INTERVAL = 0.05
SPEC: dict[str, Any] = {"root": "root", "elements": {"root": {"type": "Card", "props": {}, "children": []}}}


class Providers:
    """Real providers on one session, each appending tokens to a Y.Text of its own."""

    def __init__(self, node: NodePeer, url: str, session_id: str) -> None:
        self.node = node
        self.url = url
        self.session_id = session_id
        self.names = [f"p{i}" for i in range(PROVIDERS)]
        self.tokens: dict[str, list[str]] = {name: [] for name in self.names}

    async def connect(self) -> None:
        for name in self.names:
            await self.node.connect(name, self.url, self.session_id)
        for name in self.names:
            assert (await self.node.wait_event(name, "synced", timeout=60))["state"] is True

    async def run(self, stop: LoadStop) -> None:
        while not stop.set:
            for name in self.names:
                token = f"{name}.{len(self.tokens[name])};"
                self.tokens[name].append(token)
                await self.node.call("insertText", peer=name, text=token, field=name)
            await stop.pause(PROVIDER_INTERVAL)

    async def unsettled(self) -> dict[str, dict[str, Any]]:
        """Providers not (within the bound) connected, synced and free of unacknowledged
        changes, with their last state; empty when all settled."""
        left: dict[str, dict[str, Any]] = {}
        for name in self.names:
            try:
                await self.node.wait_state(
                    name, lambda s: bool(s["synced"]) and not s["hasUnsynced"], timeout=ACK_BOUND
                )
            except AssertionError:
                left[name] = await self.node.state(name)
        return left


async def test_host_sigkill_under_50_editors_loses_no_acknowledged_edit(
    make_gateway: MakeGateway, tmp_path: Path
) -> None:
    ensure_node_modules()
    gw = await make_gateway(hosts=2)
    sessions = [await gw.create(spec=SPEC) for _ in range(2)]
    pids = [await gw.host_pid(sid) for sid in sessions]
    assert pids[0] != pids[1], "two sessions on two hosts: the kill must spare one of them"
    url = f"{gw.ws_url}/ws"
    watch = StallWatch(gw, tmp_path)
    editors = [Editor(url, sessions[i % 2], f"e{i}", EDIT_INTERVAL, watch) for i in range(EDITORS)]
    agents = [Agent(gw, sid, f"a{s}x", AGENT_INTERVAL) for s, sid in enumerate(sessions)]
    victims = [e for e in editors if e.session_id == sessions[0]]
    spared = [e for e in editors if e.session_id == sessions[1]]

    async with NodePeer(timeout=ACK_BOUND) as node:
        providers = Providers(node, url, sessions[0])
        await providers.connect()
        stop = LoadStop()
        tasks = [asyncio.create_task(e.run(stop)) for e in editors]
        tasks += [asyncio.create_task(a.run(stop)) for a in agents]
        tasks.append(asyncio.create_task(providers.run(stop)))
        try:
            await asyncio.wait_for(asyncio.gather(*(e.connected.wait() for e in editors)), 60)
            await stop.pause(2.0)
            killed = time.monotonic()
            os.kill(pids[0], signal.SIGKILL)

            await asyncio.wait_for(asyncio.gather(*(e.reconnected.wait() for e in victims)), ACK_BOUND)
            resynced = time.monotonic() - killed
            await stop.pause(2.0)  # load goes on against the re-placed session
        finally:
            stop.event.set()
            try:
                await asyncio.wait_for(asyncio.gather(*tasks), 120)
            finally:
                await watch.done()
        await asyncio.wait_for(asyncio.gather(*(e.drain() for e in editors)), 120)
        # Checked after the figures are written, so a failure still reports them.
        unsettled = await providers.unsettled()
        replaced = await gw.host_pid(sessions[0]) != pids[0]

        # Every client resyncs once more and must hold exactly what the store committed.
        resynced_at_end = [await editor.sync_once() for editor in editors]
        lost = 0
        mismatched: list[str] = []  # clients whose document differs from the store's
        provider_gaps: dict[str, dict[str, list[int]]] = {}
        for sid in sessions:
            doc = await stored_doc(gw, sid)
            stored = {e.name: str(doc.get(e.name, type=Text)) for e in editors if e.session_id == sid}
            for editor in (e for e in editors if e.session_id == sid):
                # All it sent is stored (pending edits were delivered by the resync), in order.
                acked = "".join(editor.tokens[: editor.acked_tokens])
                lost += 0 if stored[editor.name].startswith(acked) else 1
                view = {name: str(editor.doc.get(name, type=Text)) for name in stored}
                if view != stored or stored[editor.name] != editor.expected():
                    mismatched.append(editor.name)
            if sid == sessions[0]:
                expected = {name: "".join(tokens) for name, tokens in providers.tokens.items()}
                lost += sum(1 for name in providers.names if str(doc.get(name, type=Text)) != expected[name])
                for name in providers.names:
                    view = {other: await node.text(name, field=other) for other in providers.names}
                    if view != expected:
                        mismatched.append(name)
                        # Which provider's edits it misses: tokens it holds of the tokens sent.
                        provider_gaps[name] = {
                            other: [view[other].count(";"), expected[other].count(";")]
                            for other in providers.names
                            if view[other] != expected[other]
                        }
        for agent in agents:
            lost += len(await unstored_props(gw, agent))

    resyncs = [s for e in victims for s in e.counts.resync_seconds]
    figures: dict[str, Any] = {
        **editor_totals(editors),
        **agent_totals(agents),
        "providers": PROVIDERS,
        "provider_edits": sum(len(t) for t in providers.tokens.values()),
        "providers_unsettled": unsettled,
        "editors_on_killed_host": len(victims),
        "all_resynced_s": round(resynced, 2),
        "resync_p50_s": round(statistics.median(resyncs), 3) if resyncs else None,
        "resync_max_s": round(max(resyncs), 3) if resyncs else None,
        "acked_lost": lost,
        "clients_diverged": mismatched,
        "provider_gaps": provider_gaps,
        "stalled": watch.stalled,
    }
    report("faults_host_kill", figures, tmp_path)
    assert replaced, figures
    assert all(resynced_at_end), figures
    assert unsettled == {}, figures
    assert lost == 0, figures
    assert mismatched == [], figures
    assert all(1012 in e.counts.close_codes for e in victims), figures
    assert all(e.counts.close_codes == [] and e.counts.reconnects == 0 for e in spared), figures
    assert figures["edits_refused"] == 0, figures
    assert figures["edits_acked"] == figures["edits_sent"], figures
    assert figures["rest_server_errors"] == 0, figures
    assert figures["rest_unavailable_without_retry_after"] == 0, figures
    assert figures["rest_other"] == {}, figures

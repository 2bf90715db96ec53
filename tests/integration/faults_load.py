"""Editors and agents that keep working through injected faults and count every acknowledgement.

Shared by the ``test_faults_*`` modules. An editor is a Hocuspocus client (tests/hocus_client.py)
appending numbered tokens to a Y.Text of its own; an edit is acknowledged by ``SyncStatus(1)``.
When its socket closes the editor reconnects with the same document, as @hocuspocus/provider
does: the handshake's SyncStep2 carries whatever the server lacks, and its ``SyncStatus(1)``
acknowledges every edit still pending. An agent posts REST ops; an op is acknowledged by a 200
with a revision. The checks read the store directly, so "acknowledged" is held against what
was committed, not against a server's memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import itertools
import json
import os
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import psutil
from pycrdt import Doc, Text

from ..harness import Gateway
from ..hocus_client import DocState, HocusClient

__all__ = [
    "Agent",
    "Editor",
    "LoadStop",
    "StallWatch",
    "agent_totals",
    "editor_totals",
    "max_gap",
    "report",
    "stored_doc",
    "unstored_props",
]

# Every wait on the server is bounded by this, far above what any step needs on a loaded machine.
ACK_BOUND = 60.0


class LoadStop:
    """One flag every load loop watches, so a test ends its load in one place."""

    def __init__(self) -> None:
        self.event = asyncio.Event()

    @property
    def set(self) -> bool:
        return self.event.is_set()

    async def pause(self, seconds: float) -> None:
        """Pace a loop (not a synchronisation): returns early when the load stops."""
        try:
            await asyncio.wait_for(self.event.wait(), seconds)
        except TimeoutError:
            return


class StallWatch:
    """The first edit left unacknowledged for ``after`` seconds dumps what the layer was doing
    then: its stats, ``/metrics`` and a py-spy stack dump of every session host, the store owner
    and this process (the gateway under test). A stall too rare to reproduce reports its cause
    in the run that hits it."""

    def __init__(self, gw: Gateway, directory: Path, after: float = 15.0) -> None:
        self.gw = gw
        self.path = directory / "stall.txt"
        self.after = after
        self.stalled: str | None = None  # the first editor that waited past ``after``
        self._task: asyncio.Task[None] | None = None

    def waited(self, editor: Editor, seconds: float) -> None:
        if seconds >= self.after and self.stalled is None:
            self.stalled = editor.name
            self._task = asyncio.get_running_loop().create_task(self._dump(editor, seconds))

    async def done(self) -> None:
        if self._task is not None:
            await self._task

    async def _dump(self, editor: Editor, seconds: float) -> None:
        parts = [f"editor {editor.name} on session {editor.session_id}: no SyncStatus for {seconds:.0f}s"]
        try:
            parts.append(repr(await self.gw.sessions.stats(timeout=5.0)))
            assert self.gw.http is not None
            async with self.gw.http.get(f"{self.gw.url}/metrics") as response:
                parts.append(await response.text())
        except (TimeoutError, aiohttp.ClientError, AssertionError) as exc:
            parts.append(f"layer stats unavailable: {exc!r}")
        parts.append(_task_stacks())
        spy = shutil.which("py-spy")
        for pid, title in _layer_processes():
            if spy is None:
                parts.append(f"{title} pid {pid}: py-spy not installed, no stacks")
                continue
            proc = await asyncio.create_subprocess_exec(
                spy,
                "dump",
                "--pid",
                str(pid),
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
            )
            out, _ = await asyncio.wait_for(proc.communicate(), 30.0)
            parts.append(f"--- {title} pid {pid}\n{out.decode(errors='replace')}")
        self.path.write_text("\n\n".join(parts))
        print(f"\nstall: what the layer was doing is in {self.path}")


def _task_stacks() -> str:
    """Every asyncio task of this process (the gateway under test and its clients) with
    where it waits: what a thread dump cannot show of a stalled coroutine."""
    out = io.StringIO()
    tasks = asyncio.all_tasks()
    out.write(f"--- asyncio tasks of this process: {len(tasks)}\n")
    for task in sorted(tasks, key=lambda t: t.get_name()):
        if "faults_load" in repr(task.get_coro()):
            continue  # the load's own editors and agents: thousands of lines, no cause
        task.print_stack(limit=12, file=out)
    return out.getvalue()


def _layer_processes() -> list[tuple[int, str]]:
    """This process and the Ray actors that carry a Bridge edit (session hosts, store owner)."""
    found = [(os.getpid(), "gateway and clients (this process)")]
    for proc in psutil.process_iter(["pid", "cmdline"]):
        title = " ".join(proc.info["cmdline"] or []).strip()
        if title.startswith(("ray::SessionHost", "ray::StoreService")):
            found.append((proc.info["pid"], title))
    return found


@dataclass
class EditorCounts:
    sent: int = 0
    acked: int = 0
    refused: int = 0  # SyncStatus(0): an error surfaced to the user
    reconnects: int = 0
    failed_opens: int = 0
    close_codes: list[int] = field(default_factory=list)
    resync_seconds: list[float] = field(default_factory=list)


class Editor:
    """Appends ``<name>.<n>;`` tokens to its own Y.Text, one edit in flight at a time."""

    def __init__(
        self, url: str, session_id: str, name: str, interval: float, watch: StallWatch | None = None
    ) -> None:
        self.url = url
        self.watch = watch
        self.session_id = session_id
        self.name = name
        self.interval = interval
        self.doc: Doc[Any] = Doc()
        self.tokens: list[str] = []
        self.acked_tokens = 0  # tokens[:acked_tokens] are acknowledged
        self.counts = EditorCounts()
        self.ack_times: list[float] = []
        self.connected = asyncio.Event()
        self.reconnected = asyncio.Event()  # set at the first reconnect
        self.caught_up = asyncio.Event()  # every token sent so far is acknowledged
        self.caught_up.set()
        self._closed_at: float | None = None

    def text(self) -> str:
        return str(self.doc.get(self.name, type=Text))

    def expected(self) -> str:
        return "".join(self.tokens)

    def _ack_all(self) -> None:
        now = time.monotonic()
        for _ in range(self.acked_tokens, len(self.tokens)):
            self.ack_times.append(now)
        self.counts.acked += len(self.tokens) - self.acked_tokens
        self.acked_tokens = len(self.tokens)
        self.caught_up.set()

    async def _open(self, stop: LoadStop) -> HocusClient | None:
        """Connect and sync (retrying while the session is away); None once the load stops."""
        delay = 0.05
        while not stop.set:
            client = HocusClient(self.url)
            try:
                await asyncio.wait_for(client.__aenter__(), ACK_BOUND)
                client.docs[self.session_id] = DocState(self.session_id, doc=self.doc)
                state = await client.open(self.session_id)
                synced = state.denied is None and state.statuses[-1] == 1
            except (TimeoutError, aiohttp.ClientError, OSError, AssertionError):
                synced = False  # the session is being re-placed or the gateway is busy
            if synced:
                # The handshake's SyncStep2 carried every pending edit; its ack covers them.
                self._ack_all()
                return client
            self.counts.failed_opens += 1
            await client.__aexit__(None, None, None)
            await stop.pause(delay)
            delay = min(delay * 2, 1.0)
        return None

    async def run(self, stop: LoadStop) -> None:
        first = True
        while not stop.set:
            client = await self._open(stop)
            if client is None:
                return
            if not first:
                self.counts.reconnects += 1
                self.reconnected.set()
                if self._closed_at is not None:
                    self.counts.resync_seconds.append(time.monotonic() - self._closed_at)
            first = False
            self.connected.set()
            try:
                await self._edit(client, stop)
            finally:
                # Closed before we leave: the server closed it. (Our own close when the load
                # stops is not a close code the server sent.)
                closed_by_server = client.closed.is_set()
                await client.__aexit__(None, None, None)
            if closed_by_server and client.close_code is not None:
                self.counts.close_codes.append(client.close_code)
                self._closed_at = time.monotonic()
                self.connected.clear()

    async def _edit(self, client: HocusClient, stop: LoadStop) -> None:
        state = client.docs[self.session_id]
        while not stop.set and not client.closed.is_set():
            token = f"{self.name}.{len(self.tokens)};"
            before = len(state.statuses)
            self.tokens.append(token)
            self.caught_up.clear()
            self.counts.sent += 1
            try:
                await client.insert(self.session_id, token, field_name=self.name)
            except (ConnectionError, aiohttp.ClientError, RuntimeError):
                return  # the socket went away: the edit is pending, resync delivers it
            if not await self._wait_status(client, state, before):
                return
            status = state.statuses[before]
            if status == 1:
                self._ack_all()
            else:
                self.counts.refused += 1
            await stop.pause(self.interval)

    async def sync_once(self) -> bool:
        """Connect once more and sync both ways (the load is over): the check of convergence."""
        stop = LoadStop()
        client = await asyncio.wait_for(self._open(stop), ACK_BOUND)
        if client is None:
            return False
        await client.__aexit__(None, None, None)
        return True

    async def drain(self) -> None:
        """Wait (bounded) until every token this editor sent is acknowledged."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.caught_up.wait(), ACK_BOUND)

    async def _wait_status(self, client: HocusClient, state: DocState, before: int) -> bool:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + ACK_BOUND
        while len(state.statuses) <= before:
            if client.closed.is_set():
                return False
            state.changed.clear()
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise AssertionError(f"editor {self.name}: no SyncStatus within {ACK_BOUND}s")
            if self.watch is not None:
                self.watch.waited(self, ACK_BOUND - remaining)
            try:
                # Woken every few seconds so that a stall watch sees a long wait.
                await asyncio.wait_for(state.changed.wait(), min(remaining, 5.0))
            except TimeoutError:
                continue
        return True


@dataclass
class AgentCounts:
    sent: int = 0
    acked: int = 0
    unavailable: int = 0  # 503s
    unavailable_without_retry_after: int = 0
    server_errors: int = 0  # any other 5xx: must stay 0
    other: dict[str, int] = field(default_factory=dict)
    cut: int = 0  # the connection itself failed


class Agent:
    """Posts one ``set_prop`` per request to a session's root element and records each answer."""

    def __init__(self, gw: Gateway, session_id: str, name: str, interval: float) -> None:
        self.gw = gw
        self.session_id = session_id
        self.name = name
        self.interval = interval
        self.acked: dict[str, int] = {}  # prop -> value, for every 200
        self.revisions: list[int] = []
        self.counts = AgentCounts()
        self.ack_times: list[float] = []
        self.unavailable_times: list[float] = []

    async def run(self, stop: LoadStop) -> None:
        assert self.gw.http is not None
        n = 0
        while not stop.set:
            prop = f"{self.name}{n}"
            op = {"op": "set_prop", "key": "root", "prop": prop, "value": n}
            body = {"ops": [op], "agentId": self.name}
            self.counts.sent += 1
            retry_after = self.interval
            try:
                async with self.gw.http.post(f"/api/sessions/{self.session_id}/ops", json=body) as response:
                    payload = await response.json(content_type=None)
                    status = response.status
                    header = response.headers.get("Retry-After")
            except (TimeoutError, aiohttp.ClientError, OSError):
                self.counts.cut += 1
                await stop.pause(0.2)
                continue
            if status == 200:
                assert payload["errors"] == [], payload
                self.acked[prop] = n
                self.revisions.append(int(payload["revision"]))
                self.counts.acked += 1
                self.ack_times.append(time.monotonic())
                n += 1
            elif status == 503:
                self.counts.unavailable += 1
                self.unavailable_times.append(time.monotonic())
                if header is None or not header.isdigit():
                    self.counts.unavailable_without_retry_after += 1
                else:
                    retry_after = min(float(header), 1.0)  # honoured, bounded to keep the test short
                n += 1  # its outcome is unknown: never reuse the prop for a later, acked op
            elif status >= 500:
                self.counts.server_errors += 1
            else:
                self.counts.other[str(status)] = self.counts.other.get(str(status), 0) + 1
            await stop.pause(retry_after)


async def stored_doc(gw: Gateway, session_id: str) -> Doc[Any]:
    """The session's document rebuilt from what the store committed (snapshot + log)."""
    loaded = await gw.load(session_id)
    assert loaded is not None, session_id
    doc: Doc[Any] = Doc()
    if loaded.snapshot is not None:
        doc.apply_update(loaded.snapshot)
    for _, update in loaded.updates:
        doc.apply_update(update)
    return doc


async def unstored_props(gw: Gateway, agent: Agent) -> list[str]:
    """The props ``agent`` had acknowledged that its session's state does not hold."""
    status, state = await gw.request("GET", f"/api/sessions/{agent.session_id}/state")
    assert status == 200, state
    props = state["spec"]["elements"]["root"]["props"]
    return [prop for prop, value in agent.acked.items() if props.get(prop) != value]


def max_gap(times: list[float]) -> float:
    ordered = sorted(times)
    return max((b - a for a, b in itertools.pairwise(ordered)), default=0.0)


def report(name: str, figures: dict[str, Any], directory: Path) -> Path:
    """The figures, printed (visible with ``-s``) and as ``<name>.json`` under the test's tmp dir."""
    text = json.dumps(figures, sort_keys=True)
    print(f"\n{name}: {text}")
    path = directory / f"{name}.json"
    path.write_text(json.dumps(figures, indent=2, sort_keys=True))
    return path


def editor_totals(editors: list[Editor]) -> dict[str, Any]:
    counts = [e.counts for e in editors]
    return {
        "editors": len(editors),
        "edits_sent": sum(c.sent for c in counts),
        "edits_acked": sum(c.acked for c in counts),
        "edits_refused": sum(c.refused for c in counts),
        "reconnects": sum(c.reconnects for c in counts),
        "failed_opens": sum(c.failed_opens for c in counts),
        "close_codes": sorted({code for c in counts for code in c.close_codes}),
    }


def agent_totals(agents: list[Agent]) -> dict[str, Any]:
    merged = AgentCounts()
    for agent in agents:
        for key, value in asdict(agent.counts).items():
            if key == "other":
                for status, count in value.items():
                    merged.other[status] = merged.other.get(status, 0) + count
            else:
                setattr(merged, key, getattr(merged, key) + value)
    return {f"rest_{key}": value for key, value in asdict(merged).items()}

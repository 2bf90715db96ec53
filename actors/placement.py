"""Placement: the cluster's directory of session hosts (the control plane, a Ray actor).

Dense (the default, as Orleans places many grains per silo): a fixed set of long-lived
host actors, each holding many sessions; a new session goes to the least-loaded host.
Isolated: one host process per session, taken from a pool of pre-started hosts so an
activation does not wait for a process to start.

A session is live in one host at a time: a host *claims* a session before activating it
and *releases* it after unloading; a claim for a session owned by a live host is refused.
A host's death is learnt from a call that only returns when it dies; its sessions are
then free to be claimed elsewhere at once, and a replacement host is started.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass, field
from typing import Any

import ray
from ray.exceptions import RayError
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

from storage import StorageSettings

from .engine.cad.jobs import warm_up
from .host.actor import SessionHost
from .link import LinkAddress, LinkSettings
from .settings import ActorSettings
from .settings import Placement as PlacementMode
from .singleflight import SingleFlight
from .workspace.pool import RayRunPool

__all__ = ["PLACEMENT_ACTOR_NAME", "HostInfo", "Placement"]

log = logging.getLogger(__name__)

PLACEMENT_ACTOR_NAME = "atelier-placement"


@dataclass(frozen=True, slots=True)
class HostInfo:
    name: str
    address: LinkAddress


@dataclass(slots=True)
class _Host:
    name: str
    handle: Any
    address: LinkAddress
    sessions: set[str] = field(default_factory=set)
    pooled: bool = False  # isolated: pre-started, not yet given a session
    monitor: asyncio.Task[None] | None = None


class Placement:
    def __init__(
        self, settings: ActorSettings, storage: StorageSettings, link_settings: LinkSettings
    ) -> None:
        self._settings = settings
        self._storage = storage
        self._link_settings = link_settings
        self._hosts: dict[str, _Host] = {}
        self._owner: dict[str, str] = {}  # session id -> host name
        self._starting: SingleFlight[str, None] = SingleFlight()
        self._tasks: set[asyncio.Task[None]] = set()
        self._host_cls = ray.remote(SessionHost)
        self._me: Any = None
        self._starting_on: list[str] = []  # Ray node ids of hosts being started
        self._warming: SingleFlight[str, dict[str, Any]] = SingleFlight()
        self._warmed: dict[str, Any] | None = None

    # -- hosts ------------------------------------------------------------------------

    def _target_hosts(self) -> int:
        resources: dict[str, float] = ray.cluster_resources()  # type: ignore[no-untyped-call]
        return self._settings.target_hosts(resources.get("CPU", 1))

    async def ready(self) -> int:
        """Start the hosts (dense) or the pool (isolated); returns the number of hosts."""
        await self._starting.run("fill", self._fill)
        return len(self._hosts)

    async def warm(self) -> dict[str, Any]:
        """Start what a first request needs: the hosts, the run workers and (``cad_warm``)
        one worker process with the CAD kernel loaded.

        Once per directory: concurrent callers (gateways starting together) share one
        warm-up, and later ones get its outcome with the hosts counted again.
        """
        if self._warmed is None:
            self._warmed = await self._warming.run("warm", self._warm)
        return {**self._warmed, "hosts": len(self._hosts)}

    async def _warm(self) -> dict[str, Any]:
        work = self._settings.workspace
        pool = RayRunPool(work.agent, work.llm, size=work.workers, namespace=self._settings.namespace)
        _, workers, cad = await asyncio.gather(
            self._starting.run("fill", self._fill), pool.warm(), self._warm_cad()
        )
        return {"runWorkers": workers, "cadWorker": cad}

    async def _warm_cad(self) -> bool | None:
        """A task worker of this job (the job the hosts submit CAD tasks in) loads the CAD
        kernel and stays in Ray's pool, idle, for the first CAD job; None: not asked."""
        if not self._settings.cad_warm:
            return None
        try:
            seconds: float = await warm_up.remote()
        except RayError as exc:
            log.warning("CAD worker warm-up failed: %s", exc)
            return False
        log.info("CAD worker warm: kernel loaded in %.1fs", seconds)
        return True

    def _missing(self) -> int:
        if self._settings.placement == PlacementMode.ISOLATED:
            return self._target_hosts() - sum(1 for h in self._hosts.values() if h.pooled)
        return self._target_hosts() - len(self._hosts)

    async def _fill(self) -> None:
        # Counted again after each round: a host that dies while replacements start (hosts
        # killed together) joins this fill, which ends only with the pool at its target.
        while (missing := self._missing()) > 0:
            await asyncio.gather(*(self._start_host() for _ in range(missing)))

    def _refill_soon(self) -> None:
        task = asyncio.get_running_loop().create_task(self._refill())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _refill(self) -> None:
        try:
            await self._starting.run("fill", self._fill)
        except RayError as exc:
            log.warning("could not start replacement hosts: %s", exc)

    async def _start_host(self) -> _Host:
        if self._me is None:
            self._me = ray.get_runtime_context().current_actor
        name = f"host-{uuid.uuid4().hex[:8]}"
        # Hosts take no CPU, so Ray's default would pack them all on this node: each new
        # host goes to the node with the fewest. Hard affinity: a soft one falls back to
        # this node while its view of a newly joined node is stale; a node that died
        # meanwhile fails the start (RayError), and the next fill picks among the living.
        node = self._emptiest_node()
        strategy: Any = "DEFAULT" if node is None else NodeAffinitySchedulingStrategy(node, soft=False)
        handle: Any = self._host_cls.options(
            num_cpus=0,
            max_restarts=0,
            max_concurrency=100_000,
            namespace=self._settings.namespace,
            scheduling_strategy=strategy,
        ).remote(self._settings, self._storage, self._link_settings, name, self._me)
        if node is not None:
            self._starting_on.append(node)
        try:
            address: LinkAddress = await handle.address.remote()
        finally:
            if node is not None:
                self._starting_on.remove(node)
        host = _Host(name, handle, address, pooled=self._settings.placement == PlacementMode.ISOLATED)
        host.monitor = asyncio.get_running_loop().create_task(self._watch(host), name=f"watch:{name}")
        self._hosts[name] = host
        log.info("host started name=%s", name)
        return host

    def _emptiest_node(self) -> str | None:
        """The alive Ray node with the fewest hosts (started or starting); None on one node."""
        nodes: list[dict[str, Any]] = ray.nodes()  # type: ignore[no-untyped-call]
        alive = [str(n["NodeID"]) for n in nodes if n.get("Alive")]
        if len(alive) < 2:
            return None
        # A host's link address names its Ray node (runtime.node_link_settings).
        placed = [h.address.hostname for h in self._hosts.values()] + self._starting_on
        return min(alive, key=placed.count)

    async def _watch(self, host: _Host) -> None:
        try:
            await host.handle.wait_closed.remote()
        except RayError as exc:
            log.warning("host died name=%s sessions=%d: %s", host.name, len(host.sessions), exc)
        self._forget(host)
        self._refill_soon()

    def _forget(self, host: _Host) -> None:
        if self._hosts.get(host.name) is not host:
            return
        del self._hosts[host.name]
        for session_id in host.sessions:
            if self._owner.get(session_id) == host.name:
                del self._owner[session_id]

    # -- directory --------------------------------------------------------------------

    async def locate(self, session_id: str, suspect: str | None = None) -> HostInfo:
        """The host of a session, placing it when it has none.

        ``suspect``: the caller lost its link to that host. If the host does not answer
        a ping in time it is ended (so it can never write again) and forgotten.
        """
        if suspect is not None and self._owner.get(session_id) == suspect:
            await self._check(suspect)
        name = self._owner.get(session_id)
        if name is None or name not in self._hosts:
            host = await self._choose()
            # Chosen, not owned: the host claims the session when it activates it.
            name = self._owner.setdefault(session_id, host.name)
            self._hosts[name].sessions.add(session_id)
        return HostInfo(name, self._hosts[name].address)

    async def _check(self, name: str) -> None:
        host = self._hosts.get(name)
        if host is None:
            return
        try:
            await asyncio.wait_for(host.handle.ping.remote(), self._settings.suspect_timeout)
            return
        except (TimeoutError, RayError) as exc:
            log.warning("host unresponsive name=%s, ending it: %s", name, exc)
        ray.kill(host.handle, no_restart=True)
        self._forget(host)
        self._refill_soon()

    async def _choose(self) -> _Host:
        if self._settings.placement == PlacementMode.ISOLATED:
            pooled = next((h for h in self._hosts.values() if h.pooled), None)
            if pooled is None:
                pooled = await self._start_host()
            pooled.pooled = False
            self._refill_soon()
            return pooled
        if not self._hosts:
            await self._starting.run("fill", self._fill)
        if not self._hosts:
            raise RuntimeError("no session host could be started")
        return min(self._hosts.values(), key=lambda h: len(h.sessions))

    async def claim(self, session_id: str, host_name: str) -> bool:
        """May ``host_name`` activate the session? Yes unless another live host owns it."""
        owner = self._owner.get(session_id)
        if owner is not None and owner != host_name and owner in self._hosts:
            return False
        host = self._hosts.get(host_name)
        if host is None:
            return False  # a host we consider dead must not take sessions
        self._owner[session_id] = host_name
        host.sessions.add(session_id)
        return True

    async def release(self, session_id: str, host_name: str) -> None:
        if self._owner.get(session_id) == host_name:
            del self._owner[session_id]
        host = self._hosts.get(host_name)
        if host is None:
            return
        host.sessions.discard(session_id)
        if self._settings.placement == PlacementMode.ISOLATED and not host.sessions and not host.pooled:
            # An isolated host lives for its one session.
            self._forget(host)
            task = asyncio.get_running_loop().create_task(self._end(host))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _end(self, host: _Host) -> None:
        try:
            await asyncio.wait_for(host.handle.shutdown.remote(), self._settings.exit_grace + 5)
        except (TimeoutError, RayError) as exc:
            log.info("host shutdown name=%s: %s", host.name, exc)
        ray.kill(host.handle, no_restart=True)

    async def hosts(self) -> list[dict[str, Any]]:
        return [
            {"name": h.name, "sessions": len(h.sessions), "pooled": h.pooled} for h in self._hosts.values()
        ]

    async def host_stats(self, timeout: float) -> list[dict[str, Any]]:  # noqa: ASYNC109 (a Ray method: the bound travels to each host's call)
        """Every host's ``stats()``, asked at once; a host that does not answer within
        ``timeout`` is listed by name alone (``/metrics`` counts it, never waits on it)."""
        hosts = list(self._hosts.values())

        async def ask(host: _Host) -> dict[str, Any]:
            try:
                stats: dict[str, Any] = await asyncio.wait_for(host.handle.stats.remote(), timeout)
            except (TimeoutError, RayError) as exc:
                log.info("host stats unavailable name=%s: %r", host.name, exc)
                return {"name": host.name}
            return stats

        return list(await asyncio.gather(*(ask(host) for host in hosts)))

    async def host_handle(self, session_id: str) -> Any:
        """The actor handle of the session's host, or None (operators and fault tests)."""
        name = self._owner.get(session_id)
        host = self._hosts.get(name) if name is not None else None
        return None if host is None else host.handle

    async def host_pid(self, session_id: str) -> int | None:
        name = self._owner.get(session_id)
        if name is None or name not in self._hosts:
            return None
        pid: int = await self._hosts[name].handle.ping.remote()
        return pid

    async def shutdown(self) -> None:
        await asyncio.gather(*(self._end(h) for h in list(self._hosts.values())), return_exceptions=True)
        self._hosts.clear()
        self._owner.clear()

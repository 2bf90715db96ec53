"""The lines ``atelier serve`` prints when it is up and when it has stopped (pure).

An operator reading a terminal or a log should learn from one line what this process is
wired to — which store, bus, placement, LLM provider, object store and URL — and from
another what it stopped and how long that took. Nothing secret is shown: URLs lose their
user and password, an API key is never printed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from actors.client import Warmth
from actors.llm.settings import LlmSettings
from actors.settings import Placement

from .settings import Settings

__all__ = [
    "Stopped",
    "describe_bus",
    "describe_llm",
    "describe_objects",
    "describe_store",
    "ready_line",
    "shutdown_line",
    "startup_line",
]

SQLITE_FILE = "atelier.sqlite3"


def _host_port_db(url: str, default_port: int) -> str:
    """``host:port/path`` of a URL, without its user, password or query."""
    parts = urlsplit(url)
    host = parts.hostname or "localhost"
    if ":" in host:
        host = f"[{host}]"
    try:
        port = parts.port or default_port
    except ValueError:
        port = default_port
    path = parts.path.lstrip("/")
    return f"{host}:{port}/{path}" if path else f"{host}:{port}"


def describe_store(settings: Settings) -> str:
    storage = settings.storage
    if storage.database_url:
        where = _host_port_db(storage.database_url, 5432)
        return f"postgres({where} schema={storage.pg_schema})"
    return f"sqlite({Path(storage.data_dir) / SQLITE_FILE})"


def describe_bus(settings: Settings) -> str:
    url = settings.storage.redis_url
    return f"redis({_host_port_db(url, 6379)})" if url else "in-process"


def describe_llm(llm: LlmSettings) -> str:
    if not llm.online:
        return "offline"
    endpoint = _host_port_db(llm.base_url, 443) if llm.base_url else "api.openai.com"
    return f"openai({llm.model} at {endpoint})"


def describe_objects(settings: Settings) -> str:
    url = settings.storage.objects_url
    if not url:
        return f"local({Path(settings.storage.data_dir) / 'objects'})"
    parts = urlsplit(url)
    if parts.scheme == "file":
        return f"local({parts.path})"
    # s3://bucket/prefix: the bucket is the netloc; credentials never ride in it.
    return f"{parts.scheme}://{parts.hostname or ''}{parts.path}"


def _placement(settings: Settings, hosts: int | None) -> str:
    actors = settings.actors
    count = "?" if hosts is None else str(hosts)
    if actors.placement is Placement.ISOLATED:
        return f"isolated hosts={count} (pool {actors.isolated_pool})"
    return f"dense hosts={count}"


def startup_line(settings: Settings, hosts: int | None) -> str:
    """``hosts``: the session hosts the directory keeps started (None: not known)."""
    llm = describe_llm(settings.actors.engine.llm)
    work_llm = describe_llm(settings.actors.workspace.llm)
    llm_part = f"llm={llm}" if work_llm == llm else f"llm={llm} workspace-llm={work_llm}"
    ray = f"joined {settings.ray_address}" if settings.ray_address else "local"
    return (
        f"atelier serving http://{settings.host}:{settings.port} "
        f"store={describe_store(settings)} bus={describe_bus(settings)} "
        f"placement={_placement(settings, hosts)} {llm_part} objects={describe_objects(settings)} "
        f"ray={ray} namespace={settings.actors.namespace}"
    )


def ready_line(warmth: Warmth, seconds: float) -> str:
    """The second line: the session layer warm, ``seconds`` after ``atelier serve`` began."""
    if warmth.ready:
        return f"atelier ready in {seconds:.1f}s: {warmth.describe()}"
    return f"atelier not ready after {seconds:.1f}s: {warmth.describe()} (requests start what they need)"


@dataclass(frozen=True, slots=True)
class Stopped:
    """What a shutdown closed; ``sessions``/``hosts`` None: not known (the layer did not say)."""

    sockets: int
    streams: int
    sessions: int | None
    hosts: int | None
    owned_layer: bool  # this gateway started Ray, so stopping it stopped the session layer


def _count(value: int | None) -> str:
    return "?" if value is None else str(value)


def _duration(seconds: float) -> str:
    """``42s``, ``3m12s``, ``2h05m``: an uptime read at a glance."""
    whole = int(seconds)
    if whole < 60:
        return f"{whole}s"
    if whole < 3600:
        return f"{whole // 60}m{whole % 60:02d}s"
    return f"{whole // 3600}h{whole % 3600 // 60:02d}m"


def shutdown_line(stopped: Stopped, seconds: float, uptime: float) -> str:
    if stopped.owned_layer:
        layer = (
            f"session layer stopped ({_count(stopped.sessions)} live sessions checkpointed, "
            f"{_count(stopped.hosts)} hosts), local Ray shut down"
        )
    else:
        layer = f"left the cluster's session layer running ({_count(stopped.sessions)} live sessions)"
    return (
        f"atelier stopped in {seconds:.1f}s after {_duration(uptime)} up: "
        f"closed {stopped.sockets} WebSockets "
        f"and {stopped.streams} SSE streams, {layer}"
    )

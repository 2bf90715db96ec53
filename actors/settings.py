"""Session-layer settings: placement, links, lifetime, durability and presence limits."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from .bridge.settings import VersionSettings, WebhookSettings
from .engine.settings import EngineSettings
from .env import SettingError, env_choice, env_flag, env_float, env_int
from .link import LinkSettings
from .workspace.settings import WorkspaceSettings

__all__ = ["ActorSettings", "Placement", "SettingError", "env_float", "env_int"]


class Placement(StrEnum):
    DENSE = "dense"  # many sessions per long-lived host actor (least-loaded first)
    ISOLATED = "isolated"  # one host actor per session, from a pre-started pool


@dataclass(frozen=True, slots=True)
class ActorSettings:
    namespace: str = "atelier"
    placement: Placement = Placement.DENSE
    hosts: int = 0  # dense hosts in the cluster; 0: one per CPU
    isolated_pool: int = 2  # pre-started hosts waiting for a session (isolated)
    suspect_timeout: float = 0.5  # a host that does not answer a ping in this long is ended
    idle_timeout: float = 60.0
    idle_check_interval: float = 5.0
    exit_grace: float = 1.0
    snapshot_every_updates: int = 500
    snapshot_every_bytes: int = 1 << 20
    commit_retry_max_delay: float = 2.0
    flush_max_rows: int = 1024
    max_unflushed_rows: int = 100_000
    presence_timeout: float = 30.0
    max_ops_per_request: int = 500
    max_theme_css_bytes: int = 65536
    # Streams one session serves at once, per kind (stage-event viewers, run viewers,
    # subscribed gateways' channels); one more is refused with 429.
    max_streams_per_session: int = 256
    # Started while the gateway starts (Placement.warm): hosts, store owner, run workers and,
    # when cad_warm, one worker process with the CAD kernel loaded (~400 MiB PSS, so off by
    # default); all bounded by warm_timeout.
    warm_timeout: float = 120.0
    cad_warm: bool = False
    link: LinkSettings = field(default_factory=LinkSettings)
    engine: EngineSettings = field(default_factory=EngineSettings)
    workspace: WorkspaceSettings = field(default_factory=WorkspaceSettings)
    versions: VersionSettings = field(default_factory=VersionSettings)
    webhooks: WebhookSettings = field(default_factory=WebhookSettings)

    def target_hosts(self, cpus: float) -> int:
        """Hosts the placement directory keeps started on a cluster of ``cpus`` CPUs."""
        if self.placement is Placement.ISOLATED:
            return self.isolated_pool
        return self.hosts if self.hosts > 0 else max(1, int(cpus))

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> ActorSettings:
        d = cls()
        socket_dir = env.get("ATELIER_LINK_SOCKET_DIR")
        link = LinkSettings(
            max_queue=env_int(env, "ATELIER_LINK_MAX_QUEUE", d.link.max_queue, minimum=1),
            max_batch=env_int(env, "ATELIER_LINK_MAX_BATCH", d.link.max_batch, minimum=1),
            max_frame_bytes=env_int(
                env, "ATELIER_LINK_MAX_FRAME_BYTES", d.link.max_frame_bytes, minimum=1024
            ),
            connect_timeout=env_float(env, "ATELIER_LINK_CONNECT_TIMEOUT", d.link.connect_timeout),
            tcp_host=env.get("ATELIER_LINK_HOST", d.link.tcp_host),
            socket_dir=Path(socket_dir) if socket_dir else None,
        )
        return cls(
            namespace=env.get("ATELIER_RAY_NAMESPACE", d.namespace),
            placement=env_choice(env, "ATELIER_PLACEMENT", d.placement),
            hosts=env_int(env, "ATELIER_HOSTS", d.hosts),
            isolated_pool=env_int(env, "ATELIER_ISOLATED_POOL", d.isolated_pool),
            suspect_timeout=env_float(env, "ATELIER_SUSPECT_TIMEOUT", d.suspect_timeout),
            idle_timeout=env_float(env, "ATELIER_IDLE_TIMEOUT", d.idle_timeout),
            idle_check_interval=env_float(
                env, "ATELIER_IDLE_CHECK_INTERVAL", d.idle_check_interval, minimum=0.01
            ),
            exit_grace=env_float(env, "ATELIER_EXIT_GRACE", d.exit_grace),
            snapshot_every_updates=env_int(
                env, "ATELIER_SNAPSHOT_EVERY_UPDATES", d.snapshot_every_updates, minimum=1
            ),
            snapshot_every_bytes=env_int(
                env, "ATELIER_SNAPSHOT_EVERY_BYTES", d.snapshot_every_bytes, minimum=1
            ),
            commit_retry_max_delay=env_float(
                env, "ATELIER_COMMIT_RETRY_MAX_DELAY", d.commit_retry_max_delay, minimum=0.01
            ),
            flush_max_rows=env_int(env, "ATELIER_FLUSH_MAX_ROWS", d.flush_max_rows, minimum=1),
            max_unflushed_rows=env_int(env, "ATELIER_MAX_UNFLUSHED_ROWS", d.max_unflushed_rows, minimum=1),
            presence_timeout=env_float(env, "ATELIER_PRESENCE_TIMEOUT", d.presence_timeout),
            max_ops_per_request=env_int(env, "ATELIER_MAX_OPS_PER_REQUEST", d.max_ops_per_request, minimum=1),
            max_theme_css_bytes=env_int(env, "ATELIER_MAX_THEME_CSS_BYTES", d.max_theme_css_bytes, minimum=1),
            max_streams_per_session=env_int(
                env, "ATELIER_MAX_STREAMS_PER_SESSION", d.max_streams_per_session, minimum=1
            ),
            warm_timeout=env_float(env, "ATELIER_WARM_TIMEOUT", d.warm_timeout, minimum=0.1),
            cad_warm=env_flag(env, "ATELIER_CAD_WARM", d.cad_warm),
            link=link,
            engine=EngineSettings.from_env(env),
            workspace=WorkspaceSettings.from_env(env),
            versions=VersionSettings.from_env(env),
            webhooks=WebhookSettings.from_env(env),
        )

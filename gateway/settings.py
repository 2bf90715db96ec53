"""Gateway settings, built once from the environment (and CLI flags) at the entry point."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from actors.env import env_flag
from actors.settings import ActorSettings, env_float, env_int
from storage.settings import StorageSettings

from .auth import AuthSettings, load_or_create_secret
from .limits.settings import LimitSettings

__all__ = ["Settings"]


@dataclass(frozen=True, slots=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 4321
    max_body_bytes: int = 1 << 20
    list_limit: int = 1000
    cors_origin: str = "*"
    ray_address: str | None = None
    ray_num_cpus: int | None = None
    ray_temp_dir: Path | None = None
    # A local Ray without the helpers a single server never uses (actors.runtime.init_ray).
    ray_minimal: bool = True
    call_timeout: float = 30.0
    ws_max_frame_bytes: int = 8 << 20
    ws_max_documents: int = 64
    ws_max_pending_frames: int = 256
    ws_outbound_queue_frames: int = 10000
    ws_outbound_queue_bytes: int = 32 << 20
    ws_idle_timeout: float = 60.0
    ws_batch_max_frames: int = 512
    ws_subscribe_timeout: float = 30.0
    ws_stream_queue_batches: int = 10000
    ws_secret: str | None = None
    sse_heartbeat: float = 15.0
    metrics_timeout: float = 2.0
    # Built by the entry point once the data directory is known (the secret may live there);
    # None: a secret generated into the data directory when the app is built.
    auth: AuthSettings | None = None
    log_level: str = "INFO"
    limits: LimitSettings = field(default_factory=LimitSettings)
    actors: ActorSettings = field(default_factory=ActorSettings)
    storage: StorageSettings = field(default_factory=StorageSettings)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        d = cls()
        temp = env.get("ATELIER_RAY_TEMP_DIR")
        cpus = env_int(env, "ATELIER_RAY_NUM_CPUS", 0)
        storage = StorageSettings.from_env(env)
        return cls(
            host=env.get("ATELIER_HOST", d.host),
            port=env_int(env, "ATELIER_PORT", d.port),
            max_body_bytes=env_int(env, "ATELIER_MAX_BODY_BYTES", d.max_body_bytes, minimum=1),
            list_limit=env_int(env, "ATELIER_LIST_LIMIT", d.list_limit, minimum=1),
            cors_origin=env.get("ATELIER_CORS_ORIGIN", d.cors_origin),
            ray_address=env.get("RAY_ADDRESS") or None,
            ray_num_cpus=cpus or None,
            ray_temp_dir=Path(temp) if temp else None,
            ray_minimal=env_flag(env, "ATELIER_RAY_MINIMAL", d.ray_minimal),
            call_timeout=env_float(env, "ATELIER_CALL_TIMEOUT", d.call_timeout, minimum=0.01),
            ws_max_frame_bytes=env_int(env, "ATELIER_WS_MAX_FRAME_BYTES", d.ws_max_frame_bytes, minimum=1),
            ws_max_documents=env_int(env, "ATELIER_WS_MAX_DOCUMENTS", d.ws_max_documents, minimum=1),
            ws_max_pending_frames=env_int(env, "ATELIER_WS_MAX_PENDING_FRAMES", d.ws_max_pending_frames),
            ws_outbound_queue_frames=env_int(
                env, "ATELIER_WS_OUTBOUND_QUEUE_FRAMES", d.ws_outbound_queue_frames, minimum=1
            ),
            ws_outbound_queue_bytes=env_int(
                env, "ATELIER_WS_OUTBOUND_QUEUE_BYTES", d.ws_outbound_queue_bytes, minimum=1
            ),
            ws_idle_timeout=env_float(env, "ATELIER_WS_IDLE_TIMEOUT", d.ws_idle_timeout),
            ws_batch_max_frames=env_int(env, "ATELIER_WS_BATCH_MAX_FRAMES", d.ws_batch_max_frames, minimum=1),
            ws_subscribe_timeout=env_float(env, "ATELIER_WS_SUBSCRIBE_TIMEOUT", d.ws_subscribe_timeout),
            ws_stream_queue_batches=env_int(
                env, "ATELIER_WS_STREAM_QUEUE_BATCHES", d.ws_stream_queue_batches, minimum=1
            ),
            ws_secret=env.get("ATELIER_WS_SECRET") or None,
            sse_heartbeat=env_float(env, "ATELIER_SSE_HEARTBEAT", d.sse_heartbeat, minimum=0.1),
            metrics_timeout=env_float(env, "ATELIER_METRICS_TIMEOUT", d.metrics_timeout, minimum=0.05),
            log_level=env.get("ATELIER_LOG_LEVEL", d.log_level),
            limits=LimitSettings.from_env(env),
            actors=ActorSettings.from_env(env),
            storage=storage,
        )

    def completed(self, env: Mapping[str, str]) -> Settings:
        """Fill what depends on the data directory and the address: the auth secret, the
        secret of signed file downloads (generated there when unset) and the URL run
        workers fetch files from (this gateway's, unless ATELIER_WORKSPACE_PUBLIC_URL)."""
        auth = self.auth or AuthSettings.from_env(env, self.storage.data_dir)
        workspace = self.actors.workspace
        if workspace.signing_secret is None:
            secret = load_or_create_secret(self.storage.data_dir / "workspace-secret")
            workspace = replace(workspace, signing_secret=secret.encode())
        if workspace.public_base_url is None:
            workspace = replace(workspace, public_base_url=f"http://{self.host}:{self.port}")
        return replace(self, auth=auth, actors=replace(self.actors, workspace=workspace))

    def with_overrides(self, **changes: Any) -> Settings:
        storage_changes = {k: changes.pop(k) for k in list(changes) if k == "data_dir"}
        updated = replace(self, **{k: v for k, v in changes.items() if v is not None})
        if storage_changes.get("data_dir") is not None:
            updated = replace(updated, storage=replace(updated.storage, **storage_changes))
        return updated

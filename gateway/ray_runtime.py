"""Starting or joining Ray for a gateway, with every local port kept on loopback."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import ray

from .settings import Settings

__all__ = ["RAY_ENV", "init_ray", "shutdown_ray"]

log = logging.getLogger(__name__)

# Set before Ray starts: no usage reporting, no token auth files, loopback-only binds.
RAY_ENV = {
    "RAY_USAGE_STATS_ENABLED": "0",
    "RAY_AUTH_MODE": "disabled",
    "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0",
}


def init_ray(settings: Settings) -> None:
    for key, value in RAY_ENV.items():
        os.environ.setdefault(key, value)
    if ray.is_initialized():
        return
    if settings.ray_address:
        ray.init(address=settings.ray_address, namespace=settings.actors.namespace, log_to_driver=False)
        log.info("joined ray cluster address=%s", settings.ray_address)
        return
    temp = settings.ray_temp_dir
    if temp is not None:
        temp.mkdir(parents=True, exist_ok=True)
    ray.init(
        num_cpus=settings.ray_num_cpus,
        include_dashboard=False,
        _node_ip_address="127.0.0.1",
        _temp_dir=str(temp) if temp is not None else None,
        namespace=settings.actors.namespace,
        log_to_driver=settings.log_level.upper() == "DEBUG",
    )
    log.info("started local ray temp_dir=%s", temp)


def shutdown_ray(settings: Settings) -> None:
    if not ray.is_initialized():
        return
    ray.shutdown()
    if settings.ray_temp_dir is not None and not settings.ray_address:
        marker = Path(settings.ray_temp_dir) / "ray_current_cluster"
        if marker.exists():
            marker.unlink()

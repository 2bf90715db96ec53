"""Starting or joining Ray for a gateway, with every local port kept on loopback."""

from __future__ import annotations

import logging
import os
from dataclasses import replace
from pathlib import Path

import ray

from .link import LinkSettings

__all__ = ["RAY_ENV", "init_ray", "node_link_settings", "shutdown_ray"]

log = logging.getLogger(__name__)

# Set before Ray starts: no usage reporting, no token auth files, loopback-only binds.
RAY_ENV = {
    "RAY_USAGE_STATS_ENABLED": "0",
    "RAY_AUTH_MODE": "disabled",
    "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0",
}


def init_ray(
    *,
    address: str | None,
    namespace: str,
    num_cpus: int | None = None,
    temp_dir: Path | None = None,
    log_to_driver: bool = False,
) -> None:
    for key, value in RAY_ENV.items():
        os.environ.setdefault(key, value)
    if ray.is_initialized():
        return
    if address:
        ray.init(address=address, namespace=namespace, log_to_driver=False)
        log.info("joined ray cluster address=%s", address)
        return
    if temp_dir is not None:
        temp_dir.mkdir(parents=True, exist_ok=True)
    ray.init(
        num_cpus=num_cpus,
        include_dashboard=False,
        _node_ip_address="127.0.0.1",
        _temp_dir=str(temp_dir) if temp_dir is not None else None,
        namespace=namespace,
        log_to_driver=log_to_driver,
    )
    log.info("started local ray temp_dir=%s", temp_dir)


def shutdown_ray(*, temp_dir: Path | None, joined: bool) -> None:
    if not ray.is_initialized():
        return
    ray.shutdown()
    if temp_dir is not None and not joined:
        marker = Path(temp_dir) / "ray_current_cluster"
        if marker.exists():
            marker.unlink()


def node_link_settings(settings: LinkSettings) -> LinkSettings:
    """Link settings for a process on a Ray node: TCP on the node's own address by default."""
    if settings.tcp_host:
        return settings
    node_ip: str = ray.util.get_node_ip_address()  # type: ignore[no-untyped-call]
    return replace(settings, tcp_host=node_ip)

"""Starting or joining Ray for a gateway, with every local port kept on loopback."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import psutil
import ray

from .link import LinkSettings

__all__ = [
    "RAY_ENV",
    "cluster_cpus",
    "init_ray",
    "node_link_settings",
    "shutdown_ray",
    "start_reaper",
    "stop_reaper",
]

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
    minimal: bool = False,
) -> None:
    """Join ``address``, or start a local Ray on loopback.

    ``minimal`` (a local Ray only): end the helper processes a single server never uses —
    the autoscaler's monitor (one fixed node), the dashboard's head process (with the
    dashboard off it serves usage stats alone, which are off) and, unless logs go to this
    process, the log monitor. ~150 MiB PSS together.
    """
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
    if minimal:
        _end_unused_helpers(keep_log_monitor=log_to_driver)


def _end_unused_helpers(*, keep_log_monitor: bool) -> None:
    # Ray offers no switch for these on a node ray.init starts; its Node ends them by type
    # and forgets them, so shutdown does not look for them again.
    node: Any = ray._private.worker._global_node
    if node is None:
        return
    node.kill_monitor(check_alive=False)
    node.kill_dashboard(check_alive=False)
    if not keep_log_monitor:
        node.kill_log_monitor(check_alive=False)
    log.info("local ray: monitor, dashboard head%s ended", "" if keep_log_monitor else ", log monitor")


def cluster_cpus() -> float:
    """CPUs of the Ray cluster this process is connected to."""
    resources: dict[str, float] = ray.cluster_resources()  # type: ignore[no-untyped-call]
    return resources.get("CPU", 1.0)


def shutdown_ray(*, temp_dir: Path | None, joined: bool) -> None:
    if not ray.is_initialized():
        return
    ray.shutdown()
    if temp_dir is not None and not joined:
        marker = Path(temp_dir) / "ray_current_cluster"
        if marker.exists():
            marker.unlink()


def start_reaper(temp_dir: Path | None) -> subprocess.Popen[bytes] | None:
    """Watch this process from outside: if it dies without ``shutdown_ray`` (SIGKILL, OOM),
    the local Ray it started goes at once instead of lingering (see ``actors/reaper.py``).

    Call after ``init_ray`` started a local Ray; returns None when there is no raylet child.
    """
    raylets = [p.pid for p in psutil.Process().children() if p.name() == "raylet"]
    if not raylets:
        log.warning("no local raylet found: Ray processes may outlive a killed gateway")
        return None
    command = [sys.executable, "-m", "actors.reaper", "--raylet-pid", str(raylets[0])]
    if temp_dir is not None:
        command += ["--marker", str(Path(temp_dir) / "ray_current_cluster")]
    # Its stdin is a pipe only this process writes to: EOF there means this process died.
    # A session of its own: a terminal's hang-up or Ctrl-C must not end the watcher first.
    return subprocess.Popen(command, stdin=subprocess.PIPE, start_new_session=True)


def stop_reaper(reaper: subprocess.Popen[bytes] | None, timeout: float = 10.0) -> None:
    """After a clean ``shutdown_ray``: let the watcher see EOF, find nothing left, and exit."""
    if reaper is None:
        return
    if reaper.stdin is not None:
        reaper.stdin.close()
    try:
        reaper.wait(timeout)
    except subprocess.TimeoutExpired:
        log.warning("ray reaper pid=%d did not exit; ending it", reaper.pid)
        reaper.kill()
        reaper.wait(timeout)


def node_link_settings(settings: LinkSettings) -> LinkSettings:
    """Link settings for a process on a Ray node: TCP on the node's own address by default,
    and the Ray node id as the node, so only peers on the same Ray node use Unix sockets
    (several Ray nodes on one machine, as in tests, link over TCP like separate machines)."""
    node = settings.node or ray.get_runtime_context().get_node_id()
    return replace(settings, tcp_host=settings.tcp_host or _node_address(node), node=node)


def _node_address(node_id: str) -> str:
    """The address the Ray node was started on (127.0.0.1 for a loopback-only cluster).

    Not ``ray.util.get_node_ip_address()``: that is the machine's routable address, whatever
    address the node itself was given.
    """
    for node in ray.nodes():  # type: ignore[no-untyped-call]
        if node.get("NodeID") == node_id and node.get("NodeManagerAddress"):
            return str(node["NodeManagerAddress"])
    fallback: str = ray.util.get_node_ip_address()  # type: ignore[no-untyped-call]
    return fallback

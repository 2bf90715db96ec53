"""Reading what Ray worker processes (hosts, the store owner) logged during a test."""

from __future__ import annotations

import glob
from pathlib import Path

import ray

__all__ = ["log_text", "ray_logs"]


def ray_logs(pids: set[int]) -> list[Path]:
    """The Ray worker log files (stdout and stderr) of these processes."""
    node = ray._private.worker._global_node  # the run's local node: where its workers log
    assert node is not None
    logs = Path(node.get_logs_dir_path())
    return [Path(p) for pid in pids for p in glob.glob(str(logs / f"worker-*-{pid}.*"))]


def log_text(paths: list[Path], offsets: dict[Path, int]) -> dict[Path, str]:
    """What each log file gained since ``offsets`` were taken."""
    text = {}
    for path in paths:
        with open(path, errors="replace") as handle:
            handle.seek(offsets.get(path, 0))
            text[path] = handle.read()
    return text

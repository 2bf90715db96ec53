"""Sessions per SessionHost process of a managed atelier, asked of its placement directory.

The parent (``host_stats``) runs ``python -m benchmarks.targets.host_probe GCS_ADDRESS
NAMESPACE`` once per run, outside any measured step: the probe joins the server's local Ray
as a driver (loopback only), asks the directory for every host's ``stats()`` and prints one
JSON line ``[{"pid", "name", "sessions"}]``. The server is never changed or signalled. The
GCS address is read off the server's own process tree (the raylet's ``--gcs-address``).
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import orjson

__all__ = ["PROBE_TIMEOUT", "gcs_address", "host_stats", "parse_hosts"]

log = logging.getLogger(__name__)

# Joining Ray as a driver takes a few seconds here; a directory that does not answer in
# this long is reported as unknown rather than waited on.
PROBE_TIMEOUT = 60.0
HOST_CALL_TIMEOUT = 5.0
_RAY_ENV = {
    "RAY_USAGE_STATS_ENABLED": "0",
    "RAY_AUTH_MODE": "disabled",
    "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0",
}


def parse_hosts(rows: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The hosts that answered, as ``{"pid", "name", "sessions"}``, by pid (pure)."""
    hosts = [
        {"pid": int(row["pid"]), "name": str(row.get("name", "")), "sessions": int(row.get("sessions", 0))}
        for row in rows
        if "pid" in row
    ]
    return sorted(hosts, key=lambda host: host["pid"])


def gcs_address(cmdlines: Iterable[Sequence[str]]) -> str | None:
    """The GCS address a Ray node's processes were started with (``--gcs-address=host:port``; pure)."""
    for args in cmdlines:
        for arg in args:
            if arg.startswith("--gcs-address="):
                return arg.split("=", 1)[1]
    return None


async def host_stats(address: str, namespace: str, log_path: Path) -> list[dict[str, Any]]:
    """Every SessionHost's pid and live sessions; raises OSError/TimeoutError/ValueError."""
    env = {**os.environ, **_RAY_ENV}
    env.pop("RAY_ADDRESS", None)
    # Opened once per run, outside every measured step.
    with open(log_path, "ab") as stderr:  # noqa: ASYNC230
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "benchmarks.targets.host_probe",
            address,
            namespace,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=stderr,
            env=env,
        )
        try:
            out, _ = await asyncio.wait_for(process.communicate(), PROBE_TIMEOUT)
        except TimeoutError:
            process.kill()
            await process.wait()
            raise
    if process.returncode != 0:
        raise ValueError(f"host probe exited with code {process.returncode} (log: {log_path})")
    lines = out.decode().strip().splitlines()
    if not lines:
        raise ValueError(f"host probe printed nothing (log: {log_path})")
    return parse_hosts(orjson.loads(lines[-1]))


def _probe(address: str, namespace: str) -> list[dict[str, Any]]:
    import ray

    from actors.placement import PLACEMENT_ACTOR_NAME

    ray.init(
        address=address,
        namespace=namespace,
        log_to_driver=False,
        logging_level=logging.WARNING,
        _node_ip_address="127.0.0.1",
    )
    try:
        placement = ray.get_actor(PLACEMENT_ACTOR_NAME, namespace=namespace)
        rows: list[dict[str, Any]] = ray.get(
            placement.host_stats.remote(HOST_CALL_TIMEOUT), timeout=HOST_CALL_TIMEOUT * 3
        )
    finally:
        ray.shutdown()
    return rows


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m benchmarks.targets.host_probe GCS_ADDRESS NAMESPACE", file=sys.stderr)
        return 2
    rows = _probe(argv[0], argv[1])
    sys.stdout.write(orjson.dumps(rows).decode() + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

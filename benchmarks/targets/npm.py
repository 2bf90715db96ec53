"""Installs the Hocuspocus peer's npm packages (``npm ci`` from the committed lock file)."""

from __future__ import annotations

import asyncio
import logging
import shutil
from pathlib import Path

__all__ = ["NpmError", "ensure_installed", "needs_install"]

log = logging.getLogger(__name__)


class NpmError(RuntimeError):
    """node/npm missing, or the install failed."""


def needs_install(package_dir: Path) -> bool:
    """True when node_modules is missing or older than the lock file."""
    lock = package_dir / "package-lock.json"
    marker = package_dir / "node_modules" / ".package-lock.json"
    if not marker.exists():
        return True
    return lock.stat().st_mtime > marker.stat().st_mtime


async def ensure_installed(package_dir: Path, timeout: float = 300.0) -> None:  # noqa: ASYNC109 (npm is killed at the deadline, not left running)
    if shutil.which("node") is None:
        raise NpmError("node is not installed (Node 20+ is needed for the Hocuspocus peer)")
    if not needs_install(package_dir):
        return
    npm = shutil.which("npm")
    if npm is None:
        raise NpmError("npm is not installed")
    log.info("installing the Hocuspocus peer with npm ci in %s", package_dir)
    process = await asyncio.create_subprocess_exec(
        npm,
        "ci",
        "--no-audit",
        "--no-fund",
        "--loglevel=error",
        cwd=str(package_dir),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        output, _ = await asyncio.wait_for(process.communicate(), timeout)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise NpmError(f"npm ci did not finish within {timeout:.0f}s") from None
    if process.returncode != 0:
        tail = output.decode(errors="replace")[-2000:]
        raise NpmError(f"npm ci failed (code {process.returncode}):\n{tail}")

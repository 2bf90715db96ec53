"""What the browser tests need on the machine: Debian's chromium, the web bundle's npm
packages (for a fresh build and axe-core), and a directory for screenshots."""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from gateway.web.assets import WEB_DIR

__all__ = ["OUTPUT_DIR", "ensure_chromium", "ensure_web_node_modules"]

REPO = Path(__file__).resolve().parents[2]
# Screenshots and axe reports (covered by .gitignore); ATELIER_TEST_OUTPUT moves them.
OUTPUT_DIR = Path(os.environ.get("ATELIER_TEST_OUTPUT", REPO / "test-output")) / "web"


def _locked(name: str) -> int:
    guard = os.open(Path(tempfile.gettempdir()) / f"atelier-{name}.lock", os.O_CREAT | os.O_RDWR)
    fcntl.flock(guard, fcntl.LOCK_EX)
    return guard


def ensure_chromium() -> str:
    """Debian's chromium, installed with apt when absent (never a browser download)."""
    found = shutil.which("chromium")
    if found:
        return found
    guard = _locked("chromium")
    try:
        found = shutil.which("chromium")
        if found is None:
            for command in (["apt-get", "update"], ["apt-get", "install", "-y", "chromium"]):
                result = subprocess.run(
                    command,
                    capture_output=True,
                    text=True,
                    timeout=900,
                    env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
                )
                if result.returncode != 0:
                    raise RuntimeError(
                        f"{' '.join(command)} failed:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}"
                    )
            found = shutil.which("chromium")
        if found is None:
            raise RuntimeError("apt-get installed chromium but it is not on PATH")
        return found
    finally:
        os.close(guard)


def ensure_web_node_modules() -> Path:
    """``npm ci`` in gateway/web once per lock-file version (esbuild, axe-core, the packages)."""
    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        raise RuntimeError("the web bundle tests need Node.js and npm on PATH (Node 20+)")
    digest = hashlib.sha256((WEB_DIR / "package-lock.json").read_bytes()).hexdigest()
    modules = WEB_DIR / "node_modules"
    stamp = modules / ".atelier-lock-sha256"
    guard = _locked("web-npm")
    try:
        if stamp.exists() and stamp.read_text() == digest:
            return modules
        result = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"], cwd=WEB_DIR, capture_output=True, text=True, timeout=600
        )
        if result.returncode != 0:
            raise RuntimeError(f"npm ci failed:\n{result.stdout}\n{result.stderr}")
        stamp.write_text(digest)
        return modules
    finally:
        os.close(guard)

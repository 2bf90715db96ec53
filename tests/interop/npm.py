"""Installs the interop peer's npm packages (from the committed lock file) when needed."""

from __future__ import annotations

import fcntl
import hashlib
import shutil
import subprocess
from pathlib import Path

__all__ = ["INTEROP_DIR", "ensure_node_modules"]

INTEROP_DIR = Path(__file__).resolve().parent


def ensure_node_modules() -> Path:
    """``npm ci`` once per lock-file version; concurrent callers wait on a file lock."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        raise RuntimeError("interop tests need Node.js and npm on PATH (Node 20+)")
    lock = (INTEROP_DIR / "package-lock.json").read_bytes()
    digest = hashlib.sha256(lock).hexdigest()
    modules = INTEROP_DIR / "node_modules"
    stamp = modules / ".atelier-lock-sha256"
    with open(INTEROP_DIR / ".npm-install.lock", "w") as guard:
        fcntl.flock(guard, fcntl.LOCK_EX)
        if stamp.exists() and stamp.read_text() == digest:
            return modules
        result = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"],
            cwd=INTEROP_DIR,
            capture_output=True,
            text=True,
            timeout=600,
        )
        if result.returncode != 0:
            raise RuntimeError(f"npm ci failed:\n{result.stdout}\n{result.stderr}")
        stamp.write_text(digest)
    return modules

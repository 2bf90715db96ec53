"""The layer rules and strict typing hold for the whole code base, and every setting is documented."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[1]


def _run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_import_layers() -> None:
    script = Path(sys.executable).parent / "lint-imports"
    result = _run(str(script) if script.exists() else "lint-imports")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_mypy_strict() -> None:
    result = _run(sys.executable, "-m", "mypy")
    assert result.returncode == 0, result.stdout + result.stderr


LINTED = ("actors", "gateway", "storage", "benchmarks", "tests")


def test_ruff() -> None:
    result = _run(sys.executable, "-m", "ruff", "check", *LINTED)
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format() -> None:
    result = _run(sys.executable, "-m", "ruff", "format", "--check", *LINTED)
    assert result.returncode == 0, result.stdout + result.stderr


# Settings are read by name from string literals ("ATELIER_…", also the start of an error
# message naming one). README's settings tables are those whose first column is `variable`;
# a row documents the names in that column, in full or as a `_SUFFIX` shorthand after a full
# one: `ATELIER_IDEMPOTENCY_TTL` / `_PENDING_TTL` reads as the earlier name with its last
# words replaced, here ATELIER_IDEMPOTENCY_PENDING_TTL.
SETTINGS_READERS = ("actors", "gateway", "storage")
_SETTING_READ = re.compile(r"""(?<=["'])ATELIER_[A-Z0-9_]+""")
_SETTING_CELL = re.compile(r"`(ATELIER_[A-Z0-9_]+|_[A-Z0-9_]+)`")


def _settings_read() -> set[str]:
    names: set[str] = set()
    for package in SETTINGS_READERS:
        for path in (ROOT / package).rglob("*.py"):
            names.update(_SETTING_READ.findall(path.read_text(encoding="utf-8")))
    return names


def _settings_documented() -> list[tuple[str, set[str]]]:
    """Each name in a settings table's first column: as written, and the names it may stand for."""
    rows: list[tuple[str, set[str]]] = []
    header = ""
    for line in (ROOT / "README.md").read_text(encoding="utf-8").splitlines():
        if not line.startswith("|"):
            header = ""
            continue
        first = line.split("|")[1].strip()
        if not header:
            header = first
            continue
        if header != "variable":
            continue
        previous = ""
        for written in _SETTING_CELL.findall(first):
            if written.startswith("ATELIER_"):
                previous = written
                rows.append((written, {written}))
                continue
            stems = [previous[:i] for i, char in enumerate(previous) if char == "_" and i > len("ATELIER")]
            rows.append((written, {stem + written for stem in stems}))
    return rows


def test_every_setting_is_documented() -> None:
    documented = set().union(*(names for _, names in _settings_documented()))
    missing = sorted(_settings_read() - documented)
    assert not missing, "read from the environment but in no README settings table: " + ", ".join(missing)


def test_every_documented_setting_is_read() -> None:
    read = _settings_read()
    unclear = sorted(written for written, names in _settings_documented() if len(names & read) != 1)
    assert not unclear, "in a README settings table but read nowhere (or ambiguous): " + ", ".join(unclear)


# What the gateway may import from the session layer: the session client, the messages that
# cross it (each API's ops, bodies, answers and errors, the shared ones, ids, and the
# Hocuspocus wire protocol it decodes), and what its entry point builds and starts (settings,
# the runtime). Anything else is the session layer's inside, reached only through the client.
GATEWAY_MAY_IMPORT = re.compile(
    r"^actors(\.client(\..+)?"
    r"|\.(bridge|engine|workspace)\.(\w+_)?(ops|bodies|answers|errors)"
    r"|\.core\.(ops|bodies|answers|errors|ids|events)"
    r"|\.errors|\.protocol(\..+)?"
    r"|\.settings|\.env|\.runtime|\.(llm|bridge|engine|workspace)\.settings"
    r"|\.singleflight)$"
)


def test_the_gateway_imports_only_the_client_and_the_message_modules() -> None:
    graph = grimp.build_graph("gateway", "actors", include_external_packages=False)
    found = sorted(
        f"{importer} -> {imported}"
        for importer in graph.find_descendants("gateway") | {"gateway"}
        for imported in graph.find_modules_directly_imported_by(importer)
        if imported.split(".")[0] == "actors" and not GATEWAY_MAY_IMPORT.match(imported)
    )
    assert found == []

"""One row per measured commit in ``benchmarks/HISTORY.md``: a drop is seen the day it lands.

``python -m benchmarks history add RESULTS_DIR`` reads a comparison's ``results.json`` and
appends its headline row: commit, date, how busy the machine was, rounds, and the figures the
product targets are stated in (atelier against Hocuspocus). Everything but the file I/O is pure.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import orjson

from .machine import busy_reasons

__all__ = ["COLUMNS", "PEER", "add_to_history", "append_row", "headline", "render_row"]

PEER = "hocuspocus"
TITLE = "# Benchmark history"
INTRO = (
    "One row per measured commit (`python -m benchmarks history add <results dir>` after "
    "`python -m benchmarks compare` on a quiet machine). *×Hp* = atelier / Hocuspocus; the "
    "targets: saturate and rooms-saturate ≥ 1.2× and ≥ 1.5×, fanout and rooms p99 ≤ 1×, fanout "
    "CPU per delivered edit ≤ 1.5×, deflate CPU ≤ 1.2× of without. A row marked *busy* was "
    "measured on a busy machine: decide nothing from it."
)
COLUMNS = (
    "date",
    "commit",
    "machine",
    "rounds",
    "fanout p99 ms (×Hp)",
    "fanout CPU/edit ×Hp",
    "rooms p99 ms (×Hp)",
    "saturate edits/s (×Hp)",
    "rooms-saturate edits/s (×Hp)",
    "deflate CPU ×",
)


def _get(summary: Mapping[str, Any], scenario: str, target: str, key: str) -> float | None:
    entry = summary.get(scenario, {}).get(target, {})
    value = entry.get(key) if entry.get("status") == "ok" else None
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b is not None and a > 0 and b > 0 else None


def _per_edit(summary: Mapping[str, Any], target: str) -> float | None:
    """Server cores per delivered edit per second at fanout."""
    return _ratio(
        _get(summary, "fanout", target, "server_cpu"), _get(summary, "fanout", target, "deliveries_per_s")
    )


def headline(data: Mapping[str, Any]) -> dict[str, Any]:
    """The figures of one results.json that the history keeps (pure)."""
    meta = data.get("meta", {})
    summary = data.get("summary", {})
    source = meta.get("atelier_source", {})
    run = meta.get("run", {})
    before = meta.get("machine_load", {}).get("before", {})
    figures: dict[str, Any] = {
        "date": str(meta.get("started", "?"))[:16].replace("T", " "),
        "commit": str(source.get("commit", "?"))[:10],
        "dirty": bool(source.get("dirty", source.get("changed_files", 0))),
        "loadavg": (before.get("loadavg") or [None])[0],
        "other_cpu": before.get("other_cpu"),
        "busy": bool(busy_reasons(meta.get("machine_load", {}))),
        "rounds": run.get("realtime_repeats") or run.get("repeats"),
        "cpu_per_edit_ratio": _ratio(_per_edit(summary, "atelier"), _per_edit(summary, PEER)),
    }
    for name, scenario, key in (
        ("fanout_p99", "fanout", "p99"),
        ("rooms_p99", "rooms", "p99"),
        ("saturate", "saturate", "max_sustained"),
        ("rooms_saturate", "rooms-saturate", "max_sustained"),
    ):
        mine = _get(summary, scenario, "atelier", key)
        figures[name] = mine
        figures[f"{name}_ratio"] = _ratio(mine, _get(summary, scenario, PEER, key))
    figures["deflate_cpu_ratio"] = _ratio(
        _get(summary, "fanout+deflate", "atelier", "server_cpu"),
        _get(summary, "fanout", "atelier", "server_cpu"),
    )
    return figures


def _num(value: float | None, digits: int) -> str:
    return "–" if value is None else f"{value:,.{digits}f}"


def _with_ratio(value: float | None, ratio: float | None, digits: int) -> str:
    return f"{_num(value, digits)} ({_num(ratio, 2)}×)" if ratio is not None else _num(value, digits)


def render_row(figures: Mapping[str, Any]) -> str:
    """One Markdown table row of ``headline``'s figures (pure)."""
    machine = f"load {_num(figures.get('loadavg'), 2)}, other {_num(figures.get('other_cpu'), 2)}"
    if figures.get("busy"):
        machine = f"**busy**: {machine}"
    cells = [
        str(figures.get("date", "?")),
        f"`{figures.get('commit', '?')}`" + (" +dirty" if figures.get("dirty") else ""),
        machine,
        str(figures.get("rounds") or "?"),
        _with_ratio(figures.get("fanout_p99"), figures.get("fanout_p99_ratio"), 2),
        _num(figures.get("cpu_per_edit_ratio"), 2),
        _with_ratio(figures.get("rooms_p99"), figures.get("rooms_p99_ratio"), 2),
        _with_ratio(figures.get("saturate"), figures.get("saturate_ratio"), 0),
        _with_ratio(figures.get("rooms_saturate"), figures.get("rooms_saturate_ratio"), 0),
        _num(figures.get("deflate_cpu_ratio"), 2),
    ]
    return "| " + " | ".join(cells) + " |"


def append_row(text: str, row: str) -> str:
    """``text`` (HISTORY.md, possibly empty) with ``row`` appended to its table (pure)."""
    header = "| " + " | ".join(COLUMNS) + " |"
    if header not in text:
        rule = "|" + "|".join(["---"] * 4 + ["---:"] * (len(COLUMNS) - 4)) + "|"
        start = text.rstrip("\n") or TITLE
        text = f"{start}\n\n{INTRO}\n\n{header}\n{rule}\n"
    return text.rstrip("\n") + "\n" + row + "\n"


def add_to_history(results_json: Path, history_md: Path) -> str:
    """Append the row of ``results_json`` to ``history_md``; returns the row."""
    data = orjson.loads(results_json.read_bytes())
    row = render_row(headline(data))
    text = history_md.read_text() if history_md.exists() else ""
    history_md.write_text(append_row(text, row))
    return row

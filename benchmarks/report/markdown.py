"""The Markdown report (pure): one table per scenario, then the atelier/peer ratios."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .summary import METRICS, RATIO_BASE, Metric

__all__ = ["format_value", "render_markdown"]

TITLES = {
    "atelier": "atelier",
    "atelier-isolated": "atelier (isolated)",
    "hocuspocus": "Hocuspocus",
    "pycrdt": "pycrdt-websocket",
    "relay": "aiohttp relay",
    "remote": "server at --url",
}

SECTIONS = (
    "fanout",
    "rooms",
    "saturate",
    "sessions",
    "rest-ops",
    "stages",
    "stages-rejoin",
    "runs",
    "mixed",
    "scale",
)

_DESCRIBE = {
    "fanout": "every editor appends at a fixed rate; latency = send → each other editor has it",
    "rooms": "many rooms of a few editors, each typing at a modest rate; latency = send → each other "
    "editor of the room has it; *join*: connect → synced; *PSS / room*: growth from the idle server "
    "to every room live with its editors, before any edit",
    "saturate": "offered edits/s raised step by step until delivery p99 passes the bound",
    "sessions": "live sessions grown through the sizes, one editor each (every session edits once per "
    "size); memory growth of the server tree / K; activation (REST create where needed + connect → "
    "synced) of the sessions added to reach that size",
    "rest-ops": "agents POST set_prop ops while editors edit; only servers with the REST API",
    "stages": "users drive design sessions through requirements and BOM over SSE, back to back "
    "(offline provider); *first event*: request → first event; *event→wire*: request → each event on "
    "the wire (events carry no server time; offline drafting is near-instant); *stage*: request → done",
    "stages-rejoin": "the same, each stream dropped after a few events and rejoined with Last-Event-ID; "
    "*lost* / *duplicated*: the client's event ids against a full replay of each run (both must be 0)",
    "runs": "users submit workspace runs to their own session (one in flight), a share attaching a "
    "READY file; *run*: request → JSON answer; HTTP 429 counts as a quota refusal, not an error",
    "mixed": "the realistic day: editors typing in rooms, agents posting ops, stage users and run "
    "users, all at once",
    "scale": "one scenario repeated at growing sizes: its main latency (deliveries, events, runs), "
    "throughput, CPU and memory per size, per target",
}


def format_value(value: Any, digits: int) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int) and digits == 0:
        return f"{value:,}"
    if isinstance(value, (int, float)):
        return f"{value:,.{digits}f}"
    return str(value)


def _cell(metric: Metric, value: Any) -> str:
    # Memory growth per session (or room) below zero is measurement noise (a server whose sessions
    # cost a few KiB, against PSS that moves by a MiB as the allocator settles).
    if metric.key.startswith(("pss_per_", "rss_per_")) and isinstance(value, (int, float)) and value < 0:
        return "≈0"
    return format_value(value, metric.digits)


def _revision(meta: Mapping[str, Any]) -> str:
    source = meta.get("atelier_source", {})
    commit = str(source.get("commit", "?"))[:10]
    dirty = source.get("changed_files", 0)
    return f"commit {commit}" + (f" + {dirty} uncommitted file(s)" if dirty else "")


def _title(target: str) -> str:
    return TITLES.get(target, target)


def _params(scenario: str, meta: Mapping[str, Any]) -> str:
    options = meta.get("scenarios", {}).get(scenario, {})
    return ", ".join(f"{k}={v}" for k, v in options.items())


def _header(metrics: Sequence[Metric]) -> list[str]:
    header = ["target", *(m.header for m in metrics)]
    return ["| " + " | ".join(header) + " |", "|" + "|".join(["---"] + ["---:"] * len(metrics)) + "|"]


def _row(target: str, entry: Mapping[str, Any], metrics: Sequence[Metric]) -> str:
    name = _title(target)
    if entry.get("protocol") == "y-websocket":
        name += " ¹"
    if entry.get("status") != "ok":
        problem = (entry.get("problems") or [""])[0]
        cells = [f"**{entry.get('status')}**: {_one_line(problem)}"] + [""] * (len(metrics) - 1)
        return f"| {name} | " + " | ".join(cells) + " |"
    cells = [_cell(m, entry.get(m.key)) for m in metrics]
    if entry.get("ok_rounds") != entry.get("rounds"):
        name += f" ({entry.get('ok_rounds')}/{entry.get('rounds')} rounds ok)"
    return f"| {name} | " + " | ".join(cells) + " |"


def _scenario_table(
    scenario: str, by_target: Mapping[str, Mapping[str, Any]], order: Sequence[str]
) -> list[str]:
    metrics = METRICS[scenario]
    return _header(metrics) + [_row(t, by_target[t], metrics) for t in order if t in by_target]


def _sessions_table(by_target: Mapping[str, Mapping[str, Any]], order: Sequence[str]) -> list[str]:
    """One row per target and size, the smaller sizes first; then a note per capped target."""
    metrics = METRICS["sessions"]
    lines = _header(metrics)
    for target in order:
        entry = by_target.get(target)
        if entry is None:
            continue
        by_size = entry.get("by_size") or {}
        if entry.get("status") != "ok" or not by_size:
            lines.append(_row(target, entry, metrics))
            continue
        for size in sorted(by_size, key=int):
            lines.append(_row(target, {**entry, **by_size[size]}, metrics))
    capped = [t for t in order if by_target.get(t, {}).get("capped_at")]
    notes = [_capped_note(target, by_target[target]) for target in capped]
    if notes:
        lines += ["", *notes]
    return lines


def _scale_table(by_target: Mapping[str, Mapping[str, Any]], order: Sequence[str]) -> list[str]:
    """One row per target and size (see scale.png for the curves)."""
    metrics = METRICS["scale"]
    lines = _header(metrics)
    for target in order:
        entry = by_target.get(target)
        if entry is None:
            continue
        by_size = entry.get("by_size") or {}
        if entry.get("status") != "ok" or not by_size:
            lines.append(_row(target, entry, metrics))
            continue
        for size in sorted(by_size, key=int):
            lines.append(_row(target, {**entry, **by_size[size]}, metrics))
    return lines


def _capped_note(target: str, entry: Mapping[str, Any]) -> str:
    wanted = entry.get("requested_sessions")
    per = entry.get("pss_per_session_mib")
    need = ""
    if isinstance(wanted, int) and isinstance(per, (int, float)) and per > 0:
        total = per * wanted
        amount = f"{total / 1024:.0f} GiB" if total >= 1024 else f"{total:.0f} MiB"
        need = f"; {wanted:,} would need ≈{amount} more"
    return (
        f"- {_title(target)} stopped at {entry['capped_at']:,} live sessions (`--isolated-max-sessions`): "
        f"one server process per session{need}, on a machine of 2 cores and 24 GiB shared with other work."
    )


def _one_line(text: str, limit: int = 160) -> str:
    flat = " ".join(str(text).split()).replace("|", "/")
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _ratio_table(
    ratio_rows: Mapping[str, Mapping[str, Mapping[str, float | None]]], order: Sequence[str]
) -> list[str]:
    peers = [t for t in order if t != RATIO_BASE]
    lines = [
        "| scenario | metric | " + " | ".join(f"vs {_title(p)}" for p in peers) + " |",
        "|---|---|" + "|".join(["---:"] * len(peers)) + "|",
    ]
    for scenario, table in ratio_rows.items():
        headers = {m.key: m for m in METRICS[scenario]}
        for key, row in table.items():
            metric = headers[key]
            better = "lower is better" if metric.lower_is_better else "higher is better"
            cells = [("n/a" if row.get(p) is None else f"{row[p]:.2f}×") for p in peers]
            lines.append(f"| {scenario} | {metric.header} ({better}) | " + " | ".join(cells) + " |")
    return lines


def render_markdown(
    summary: Mapping[str, Mapping[str, Mapping[str, Any]]],
    ratio_rows: Mapping[str, Mapping[str, Mapping[str, float | None]]],
    meta: Mapping[str, Any],
    plots: Sequence[str] = (),
) -> str:
    order = list(meta.get("run", {}).get("targets", [])) or sorted({t for s in summary.values() for t in s})
    machine = meta.get("machine", {})
    run = meta.get("run", {})
    lines = [
        "# atelier benchmark",
        "",
        f"Run {meta.get('started', '?')} on {machine.get('cpus', '?')} CPUs / "
        f"{machine.get('memory_gib', '?')} GiB, Python {machine.get('python', '?')}, "
        f"Node {machine.get('node', '?')}; {run.get('repeats', 1)} round(s) per target, "
        f"targets alternating; {run.get('workers', 1)} load worker process(es); "
        f"took {meta.get('elapsed_s', '?')} s. atelier at {_revision(meta)}.",
        "",
        "Latencies in ms (p50/p95/p99 over every delivery of every successful round); rates and "
        "memory are medians over rounds. CPU is in cores (1.0 = one core busy); *other CPU* is the "
        "machine's busy time minus server and load workers (orchestrator, kernel network work and "
        "anything else running: a high value flags a noisy run). PSS splits shared "
        "pages between processes; both are summed over the server's whole process tree.",
        "¹ plain y-websocket client mode: no SyncStatus, so no ack latency.",
    ]
    if "remote" in meta.get("targets", {}):
        lines += ["", f"*server at --url*: {meta['targets']['remote']}."]
    for scenario in SECTIONS:
        by_target = summary.get(scenario)
        if not by_target:
            continue
        lines += ["", f"## {scenario}", "", f"{_DESCRIBE[scenario]} ({_params(scenario, meta)})", ""]
        if scenario == "sessions":
            lines += _sessions_table(by_target, order)
        elif scenario == "scale":
            lines += _scale_table(by_target, order)
        else:
            lines += _scenario_table(scenario, by_target, order)
        if scenario == "saturate":
            lines.append("")
            for target in order:
                entry = by_target.get(target, {})
                reasons = list(dict.fromkeys(r for r in entry.get("stop_reasons", []) if r))
                if reasons:
                    lines.append(
                        f"- {_title(target)} stopped at: " + "; ".join(_one_line(r, 120) for r in reasons)
                    )
            if any(e.get("client_bound") for e in by_target.values()):
                lines.append(
                    "- *client-bound*: the load generator could not offer more on this machine, so "
                    "that target's figure is a lower bound."
                )
        measured = sorted({str(e.get("server_measured", "local")) for e in by_target.values()})
        if any(m != "local" and not m.startswith("local:") for m in measured) or "remote" in by_target:
            lines += ["", *(f"- server figures: {m}" for m in measured)]
    if any(ratio_rows.values()) and any(t != RATIO_BASE for t in order):
        lines += ["", f"## {TITLES[RATIO_BASE]} / peer", ""]
        lines += _ratio_table(ratio_rows, order)
    if plots:
        lines += ["", "## Plots", ""]
        lines += [f"![{name}]({name})" for name in plots]
    lines.append("")
    return "\n".join(lines)

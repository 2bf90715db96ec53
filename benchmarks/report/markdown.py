"""The Markdown report (pure): one table per scenario, then the atelier/peer ratios."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..machine import SATURATED_LOAD_WORKER, busy_reasons
from .summary import DEFLATE, RATIO_BASE, Metric, deflate_rows, metrics_for

__all__ = ["busy_banner", "format_value", "load_worker_notes", "render_markdown"]

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
    "rooms-saturate",
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
    "rooms-saturate": "the rooms load (many rooms of a few editors) with the per-editor rate raised step "
    "by step until delivery p99 passes the bound; *hosts*: atelier's SessionHost processes, their live "
    "sessions (from the placement directory) and cores at the highest sustained step",
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


def _cell(metric: Metric, value: Any, spread: tuple[float, float] | None = None) -> str:
    # Memory growth per session (or room) below zero is measurement noise (a server whose sessions
    # cost a few KiB, against PSS that moves by a MiB as the allocator settles).
    if metric.key.startswith(("pss_per_", "rss_per_")) and isinstance(value, (int, float)) and value < 0:
        return "≈0"
    text = format_value(value, metric.digits)
    if spread is not None and value is not None:
        low, high = (format_value(v, metric.digits) for v in spread)
        text += f" ({low}–{high})"
    return text


def _revision(meta: Mapping[str, Any]) -> str:
    source = meta.get("atelier_source", {})
    commit = str(source.get("commit", "?"))[:10]
    server = source.get("changed_files", 0)
    dirty = source.get("dirty_files", server)
    if not dirty:
        return f"commit {commit} (clean tree)"
    return f"commit {commit} + {dirty} uncommitted file(s), {server} of them in actors/ gateway/ storage/"


def busy_banner(meta: Mapping[str, Any]) -> list[str]:
    """The busy-machine warning (Markdown lines), or nothing when the machine was quiet."""
    load = meta.get("machine_load")
    if not load:
        return []
    reasons = busy_reasons(load)
    if not reasons:
        return []
    return [
        "> **⚠ The machine was busy: decide nothing from these figures.** "
        + "; ".join(reasons)
        + ". Rerun on a quiet machine (check `uptime`).",
    ]


def _load_line(meta: Mapping[str, Any]) -> str:
    load = meta.get("machine_load") or {}
    before, during = load.get("before") or {}, load.get("during") or {}
    avg = " / ".join(f"{v:.2f}" for v in before.get("loadavg", []))
    return (
        f"Machine load: before the run load average {avg or '?'} (1/5/15 min), other CPU "
        f"{format_value(before.get('other_cpu'), 2)} cores; during the steps other CPU median "
        f"{format_value(during.get('other_cpu_median'), 2)} "
        f"(max {format_value(during.get('other_cpu_max'), 2)}) cores, "
        f"load average up to {format_value(during.get('loadavg_max'), 2)}."
    )


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
    spreads = entry.get("spread") or {}
    cells = [_cell(m, entry.get(m.key), spreads.get(m.key)) for m in metrics]
    if entry.get("ok_rounds") != entry.get("rounds"):
        name += f" ({entry.get('ok_rounds')}/{entry.get('rounds')} rounds ok)"
    return f"| {name} | " + " | ".join(cells) + " |"


def _scenario_table(
    scenario: str, by_target: Mapping[str, Mapping[str, Any]], order: Sequence[str]
) -> list[str]:
    metrics = metrics_for(scenario)
    return _header(metrics) + [_row(t, by_target[t], metrics) for t in order if t in by_target]


def _sessions_table(by_target: Mapping[str, Mapping[str, Any]], order: Sequence[str]) -> list[str]:
    """One row per target and size, the smaller sizes first; then a note per capped target."""
    metrics = metrics_for("sessions")
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
            lines.append(_row(target, {**entry, **by_size[size], "spread": {}}, metrics))
    capped = [t for t in order if by_target.get(t, {}).get("capped_at")]
    notes = [_capped_note(target, by_target[target]) for target in capped]
    if notes:
        lines += ["", *notes]
    return lines


def _scale_table(by_target: Mapping[str, Mapping[str, Any]], order: Sequence[str]) -> list[str]:
    """One row per target and size (see scale.png for the curves)."""
    metrics = metrics_for("scale")
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
            lines.append(_row(target, {**entry, **by_size[size], "spread": {}}, metrics))
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
        headers = {m.key: m for m in metrics_for(scenario)}
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
    lines = ["# atelier benchmark", ""]
    banner = busy_banner(meta)
    if banner:
        lines += [*banner, ""]
    rounds = run.get("realtime_repeats") or run.get("repeats", 1)
    lines += [
        f"Run {meta.get('started', '?')} on {machine.get('cpus', '?')} CPUs / "
        f"{machine.get('memory_gib', '?')} GiB, Python {machine.get('python', '?')}, "
        f"Node {machine.get('node', '?')}; {rounds} round(s) per target for the realtime scenarios "
        f"({run.get('repeats', 1)} for the others), targets alternating; {run.get('workers', 1)} load "
        f"worker process(es); took {meta.get('elapsed_s', '?')} s. atelier at {_revision(meta)}.",
        "",
        _load_line(meta),
        "",
        "Latencies in ms (p50/p95/p99 over every delivery of every successful round); rates and "
        "memory are medians over rounds; *(a–b)* after a figure is its min–max over the rounds, "
        "each round taken alone. CPU is in cores (1.0 = one core busy); *other CPU* is the "
        "machine's busy time minus server and load workers (orchestrator, kernel network work and "
        "anything else running: a high value flags a noisy run). PSS splits shared "
        "pages between processes; both are summed over the server's whole process tree.",
        "¹ plain y-websocket client mode: no SyncStatus, so no ack latency.",
    ]
    if "remote" in meta.get("targets", {}):
        lines += ["", f"*server at --url*: {meta['targets']['remote']}."]
    for scenario in [label for name in SECTIONS for label in (name, f"{name}{DEFLATE}")]:
        by_target = summary.get(scenario)
        if not by_target:
            continue
        base = scenario.removesuffix(DEFLATE)
        describe = _DESCRIBE[base] + (", permessage-deflate offered" if scenario != base else "")
        lines += ["", f"## {scenario}", "", f"{describe} ({_params(base, meta)})", ""]
        if base == "sessions":
            lines += _sessions_table(by_target, order)
        elif base == "scale":
            lines += _scale_table(by_target, order)
        else:
            lines += _scenario_table(scenario, by_target, order)
        if base in ("saturate", "rooms-saturate"):
            lines += ["", *_stop_notes(by_target, order)]
        if base == "rooms-saturate":
            lines += _host_notes(by_target, order)
        lines += _compression_notes(by_target, order)
        lines += load_worker_notes(by_target, order, int(run.get("workers", 1) or 1))
        measured = sorted({str(e.get("server_measured", "local")) for e in by_target.values()})
        if any(m != "local" and not m.startswith("local:") for m in measured) or "remote" in by_target:
            lines += ["", *(f"- server figures: {m}" for m in measured)]
    if any(ratio_rows.values()) and any(t != RATIO_BASE for t in order):
        lines += ["", f"## {TITLES[RATIO_BASE]} / peer", ""]
        lines += _ratio_table(ratio_rows, order)
    both = deflate_rows(summary)
    if both:
        lines += ["", "## permessage-deflate offered / not offered", ""]
        lines += _deflate_table(both)
    if plots:
        lines += ["", "## Plots", ""]
        lines += [f"![{name}]({name})" for name in plots]
    lines.append("")
    return "\n".join(lines)


def _stop_notes(by_target: Mapping[str, Mapping[str, Any]], order: Sequence[str]) -> list[str]:
    lines = []
    for target in order:
        entry = by_target.get(target, {})
        reasons = list(dict.fromkeys(r for r in entry.get("stop_reasons", []) if r))
        if reasons:
            lines.append(f"- {_title(target)} stopped at: " + "; ".join(_one_line(r, 120) for r in reasons))
    if any(e.get("client_bound") for e in by_target.values()):
        lines.append(
            "- *client-bound*: the load generator could not offer more on this machine, so "
            "that target's figure is a lower bound."
        )
    return lines


def _host_notes(by_target: Mapping[str, Mapping[str, Any]], order: Sequence[str]) -> list[str]:
    """Per target with session hosts: each host's sessions and cores at max, round by round."""
    lines = []
    for target in order:
        for index, rows in enumerate(by_target.get(target, {}).get("host_balance", [])):
            hosts = "; ".join(
                f"pid {row['pid']}: {format_value(row['sessions'], 0)} sessions, "
                f"{format_value(row['cores'], 2)} cores"
                for row in rows
            )
            lines.append(f"- {_title(target)} hosts (round {index + 1}): {hosts}")
    return lines


def load_worker_notes(
    by_target: Mapping[str, Mapping[str, Any]], order: Sequence[str], workers: int
) -> list[str]:
    """A warning per target whose load workers were near a full core each (pure).

    A saturated load worker delays reading what it receives, so every latency it records
    grows by its own queue: such a row measures the load generator as much as the server.
    """
    notes: list[str] = []
    for target in order:
        entry = by_target.get(target, {})
        cpu = entry.get("client_cpu", entry.get("client_cpu_at_max"))
        if not isinstance(cpu, (int, float)) or workers < 1:
            continue
        each = cpu / workers
        if each >= SATURATED_LOAD_WORKER:
            notes.append(
                f"- ⚠ {_title(target)}: the load workers were busy {each:.2f} of a core each "
                f"(≥ {SATURATED_LOAD_WORKER:g}), so these latencies include the load generator's own "
                "queue; on a machine with cores to spare, rerun with more `--workers`."
            )
    return ["", *notes] if notes else []


def _compression_notes(by_target: Mapping[str, Mapping[str, Any]], order: Sequence[str]) -> list[str]:
    answers = {"yes": "agreed", "no": "declined", "partly": "agreed on some sockets only"}
    offered = [t for t in order if by_target.get(t, {}).get("compression")]
    if not offered:
        return []
    parts = [f"{_title(t)} {answers.get(str(by_target[t]['compression']), 'n/a')}" for t in offered]
    return ["", "- permessage-deflate offered (as Chrome does): " + ", ".join(parts)]


def _deflate_table(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    lines = [
        "| scenario | target | metric | not offered | offered | offered / not | deflate agreed |",
        "|---|---|---|---:|---:|---:|---|",
    ]
    for row in rows:
        metric = next(m for m in metrics_for(row["scenario"]) if m.key == row["metric"])
        ratio = "n/a" if row["ratio"] is None else f"{row['ratio']:.2f}×"
        lines.append(
            f"| {row['scenario']} | {_title(row['target'])} | {metric.header} | "
            f"{format_value(row['plain'], metric.digits)} | {format_value(row['deflate'], metric.digits)} | "
            f"{ratio} | {row['negotiated']} |"
        )
    return lines

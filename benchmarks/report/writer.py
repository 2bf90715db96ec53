"""Writes a comparison to a results folder: results.json, report.md and the PNG plots."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from ..runner import Comparison
from .markdown import render_markdown
from .plots import write_plots
from .summary import deflate_rows, ratios, summarize

__all__ = ["load_comparison", "write_json", "write_report"]

RESULTS_JSON = "results.json"
REPORT_MD = "report.md"


def write_json(comparison: Comparison, out_dir: Path) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    summary = summarize(comparison.runs)
    data: dict[str, Any] = {
        **comparison.to_dict(),
        "summary": summary,
        "ratios": ratios(summary),
        "deflate": deflate_rows(summary),
    }
    path = out_dir / RESULTS_JSON
    tmp = path.with_suffix(".json.tmp")
    tmp.write_bytes(orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS))
    tmp.replace(path)
    return path


def write_report(comparison: Comparison, out_dir: Path) -> dict[str, Path]:
    """JSON, Markdown and plots; returns what was written by kind."""
    json_path = write_json(comparison, out_dir)
    summary = summarize(comparison.runs)
    bound = comparison.meta.get("scenarios", {}).get("saturate", {}).get("p99_bound_ms")
    plots = write_plots(comparison.runs, out_dir, bound)
    markdown = render_markdown(summary, ratios(summary), comparison.meta, plots)
    md_path = out_dir / REPORT_MD
    md_path.write_text(markdown)
    written = {"json": json_path, "markdown": md_path}
    written.update({name: out_dir / name for name in plots})
    return written


def load_comparison(path: Path) -> Comparison:
    data = orjson.loads(path.read_bytes())
    return Comparison.from_dict(data)

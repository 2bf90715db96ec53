"""The run options every benchmark smoke test uses."""

from __future__ import annotations

from benchmarks.config import RunOptions

__all__ = ["smoke_run"]


def smoke_run(targets: tuple[str, ...]) -> RunOptions:
    """One quiet repeat with one worker against ``targets``, with generous timeouts."""
    return RunOptions(
        targets=targets, repeats=1, workers=1, drain_timeout=10.0, connect_timeout=60.0, quiet=True
    )

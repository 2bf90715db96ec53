"""Progress display: rich progress bars while a comparison or the cad benchmark runs (or nothing,
when quiet)."""

from __future__ import annotations

from types import TracebackType
from typing import Protocol

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

__all__ = [
    "JobSink",
    "NullJobProgress",
    "NullProgress",
    "ProgressSink",
    "RichJobProgress",
    "RichProgress",
    "make_progress",
]


class ProgressSink(Protocol):
    def begin_run(self, label: str, total_sends: int) -> None: ...

    def phase(self, text: str) -> None: ...

    def sends(self, done: int, received: int, errors: int) -> None: ...

    def end_run(self, outcome: str) -> None: ...

    def note(self, text: str) -> None: ...


class NullProgress:
    def begin_run(self, label: str, total_sends: int) -> None:
        pass

    def phase(self, text: str) -> None:
        pass

    def sends(self, done: int, received: int, errors: int) -> None:
        pass

    def end_run(self, outcome: str) -> None:
        pass

    def note(self, text: str) -> None:
        pass


class RichProgress:
    """Two bars: runs completed out of planned, and the current run's edits sent."""

    def __init__(self, total_runs: int, console: Console | None = None) -> None:
        self.console = console or Console(stderr=True)
        self._progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[info]}"),
            TimeElapsedColumn(),
            console=self.console,
            transient=False,
        )
        self._runs: TaskID = self._progress.add_task("runs", total=total_runs, info="")
        self._current: TaskID | None = None
        self._label = ""
        self._sent_base = 0  # sends of the finished steps of the current run
        self._done = 0

    def __enter__(self) -> RichProgress:
        self._progress.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._progress.stop()

    def begin_run(self, label: str, total_sends: int) -> None:
        self._label = label
        self._sent_base = 0
        self._done = 0
        self._current = self._progress.add_task(label, total=max(1, total_sends), info="starting")

    def phase(self, text: str) -> None:
        if self._current is not None:
            self._progress.update(self._current, info=text)
            if text.startswith("step"):
                self._sent_base = self._done

    def sends(self, done: int, received: int, errors: int) -> None:
        if self._current is not None:
            info = f"received {received}" + (f", [red]{errors} errors[/red]" if errors else "")
            self._done = self._sent_base + done
            self._progress.update(self._current, completed=self._done, info=info)

    def end_run(self, outcome: str) -> None:
        if self._current is not None:
            self._progress.remove_task(self._current)
            self._current = None
        self._progress.advance(self._runs)
        self.console.log(f"{self._label}: {outcome}")

    def note(self, text: str) -> None:
        self.console.log(text)


def make_progress(total_runs: int, quiet: bool) -> RichProgress | None:
    return None if quiet else RichProgress(total_runs)


class JobSink(Protocol):
    """What the cad benchmark reports: modes (in-process, Ray × N) of a known number of jobs."""

    def begin_mode(self, label: str, total_jobs: int) -> None: ...

    def phase(self, text: str) -> None: ...

    def job(self, ok: bool) -> None: ...

    def end_mode(self, outcome: str) -> None: ...

    def note(self, text: str) -> None: ...


class NullJobProgress:
    def begin_mode(self, label: str, total_jobs: int) -> None:
        pass

    def phase(self, text: str) -> None:
        pass

    def job(self, ok: bool) -> None:
        pass

    def end_mode(self, outcome: str) -> None:
        pass

    def note(self, text: str) -> None:
        pass


REFRESH_PER_SECOND = 1.0


class RichJobProgress:
    """Two bars: every job of the command, and the current mode's jobs (with its phase)."""

    def __init__(self, total_jobs: int, console: Console | None = None) -> None:
        self.console = console or Console(stderr=True)
        self._progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[info]}"),
            TimeElapsedColumn(),
            console=self.console,
            transient=False,
            # The display redraws from a thread of the process that measures (and, in process,
            # runs the jobs); a BOM round lasts under a second, so once a second is plenty.
            refresh_per_second=REFRESH_PER_SECOND,
        )
        self._all: TaskID = self._progress.add_task("CAD jobs", total=max(1, total_jobs), info="")
        self._current: TaskID | None = None
        self._label = ""
        self._phase = ""
        self._failed = 0

    def __enter__(self) -> RichJobProgress:
        self._progress.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._progress.stop()

    def begin_mode(self, label: str, total_jobs: int) -> None:
        self._label = label
        self._failed = 0
        self._phase = "starting"
        self._current = self._progress.add_task(label, total=max(1, total_jobs), info=self._phase)

    def _info(self) -> str:
        return self._phase + (f", [red]{self._failed} failed[/red]" if self._failed else "")

    def phase(self, text: str) -> None:
        self._phase = text
        if self._current is not None:
            self._progress.update(self._current, info=self._info())

    def job(self, ok: bool) -> None:
        self._failed += 0 if ok else 1
        self._progress.advance(self._all)
        if self._current is not None:
            self._progress.update(self._current, advance=1, info=self._info())

    def end_mode(self, outcome: str) -> None:
        if self._current is not None:
            self._progress.remove_task(self._current)
            self._current = None
        self.console.log(f"{self._label}: {outcome}")

    def note(self, text: str) -> None:
        self.console.log(text)

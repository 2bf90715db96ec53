"""py-spy's raw (collapsed) stacks → the hottest frames of one process (pure).

A raw file holds one line per distinct stack: ``frame;frame;…;leaf count``, the root first,
each frame ``function (file:line)`` with the line being run. *Self* time is counted per
line: the samples where that line of that function is the leaf (the code running, or a call
into C made from it: a wait and a SQLite statement in one function are told apart). *Total*
(inclusive) time is counted per function: the samples where it is anywhere on the stack, at
any line (once per sample, so recursion does not count twice). Both are shown as a share of
the process's samples. Paths are shortened to what a reader knows them by: relative
to site-packages (a library), to the repository (our code) or to the standard library.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

__all__ = [
    "NO_FRAME",
    "TOP",
    "Frame",
    "FrameTime",
    "ProcessProfile",
    "StackFormatError",
    "parse_frame",
    "parse_raw",
    "profile_of",
    "shorten_path",
    "top_frames",
]

TOP = 15  # frames per table
# py-spy writes a sample of a thread that had no Python frame (native code only) as an empty stack.
NO_FRAME = "(no Python frame)"

_PACKAGES = re.compile(r"/(?:site|dist)-packages/(.+)$")
_STDLIB = re.compile(r"/lib/python\d+(?:\.\d+)?/(.+)$")


class StackFormatError(ValueError):
    """A line of a raw stacks file that is not ``stack count``; names the line."""

    def __init__(self, line_number: int, line: str) -> None:
        super().__init__(f"line {line_number}: expected 'frame;frame;… count', got {line[:120]!r}")
        self.line_number = line_number


@dataclass(frozen=True, slots=True)
class Frame:
    function: str
    file: str = ""  # shortened; "" when py-spy gave no file (a native or unknown frame)
    line: int | None = None

    def __str__(self) -> str:
        if not self.file:
            return self.function
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        return f"{self.function} ({where})"


@dataclass(frozen=True, slots=True)
class FrameTime:
    frame: Frame
    samples: int
    percent: float  # of the process's samples


@dataclass(frozen=True, slots=True)
class ProcessProfile:
    """One process's samples and its hottest frames by self and by total time."""

    samples: int
    by_self: list[FrameTime]
    by_total: list[FrameTime]


def shorten_path(path: str, repo_root: str = "") -> str:
    """``path`` relative to site-packages, else to ``repo_root``, else to the standard library."""
    found = _PACKAGES.search(path)
    if found:
        return found.group(1)
    root = repo_root.rstrip("/")
    if root and path.startswith(root + "/"):
        return path[len(root) + 1 :]
    found = _STDLIB.search(path)
    if found:
        return found.group(1)
    return path


def parse_frame(text: str, repo_root: str = "") -> Frame:
    """``function (file:line)`` (or ``function (file)``, or a bare name) as a Frame."""
    function, sep, rest = text.rpartition(" (")
    if not sep or not rest.endswith(")"):
        return Frame(text.strip())
    where = rest[:-1]
    file, colon, line = where.rpartition(":")
    if colon and line.isdigit():
        return Frame(function, shorten_path(file, repo_root), int(line))
    return Frame(function, shorten_path(where, repo_root))


def parse_raw(text: str, repo_root: str = "") -> list[tuple[tuple[Frame, ...], int]]:
    """Every ``stack count`` line as (frames root first, samples); blank lines are skipped, an
    empty stack (`` 3``) is one NO_FRAME frame."""
    stacks: list[tuple[tuple[Frame, ...], int]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        stack, sep, count = line.rstrip().rpartition(" ")
        if not sep or not count.isdigit():
            raise StackFormatError(number, line)
        frames = tuple(parse_frame(part, repo_root) for part in stack.split(";") if part)
        stacks.append((frames or (Frame(NO_FRAME),), int(count)))
    return stacks


def _ranked(counts: Counter[Frame], samples: int, top: int) -> list[FrameTime]:
    # Most samples first; ties in a stable, readable order (as shown).
    ranked = sorted(counts.items(), key=lambda item: (-item[1], str(item[0])))[:top]
    return [FrameTime(frame, n, 100.0 * n / samples) for frame, n in ranked]


def top_frames(
    stacks: Iterable[tuple[Sequence[Frame], int]], top: int = TOP
) -> tuple[int, list[FrameTime], list[FrameTime]]:
    """(samples, top ``top`` by self time per line, top ``top`` by total time per function)."""
    own: Counter[Frame] = Counter()
    total: Counter[Frame] = Counter()
    samples = 0
    for frames, count in stacks:
        if not frames or count <= 0:
            continue
        samples += count
        own[frames[-1]] += count
        for function in {Frame(f.function, f.file) for f in frames}:
            total[function] += count
    if samples == 0:
        return 0, [], []
    return samples, _ranked(own, samples, top), _ranked(total, samples, top)


def profile_of(raw: str, repo_root: str = "", top: int = TOP) -> ProcessProfile:
    """A raw stacks file's text → its ProcessProfile."""
    samples, by_self, by_total = top_frames(parse_raw(raw, repo_root), top)
    return ProcessProfile(samples, by_self, by_total)

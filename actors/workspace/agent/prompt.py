"""From an envelope and the files' text to the model's messages, or the offline answer (pure).

One system prompt per session type lives as Markdown package data in
``actors/workspace/prompts/<TYPE>.md``. The attached files' text goes into the final user
message, each file bounded and all of them together bounded, before the user's input; the
earlier turns go in between as they were said. The GitHub token never enters a prompt:
only the repository's name does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources

from ..bodies import SessionType
from .envelope import TaskEnvelope

__all__ = ["FileText", "bound_file_texts", "build_messages", "load_prompt", "offline_answer"]

# The workspace package that owns the `prompts/` data directory (this is `<ws>.agent.prompt`).
_WORKSPACE_PACKAGE = __name__.rsplit(".", 2)[0]
_TRUNCATED = "\n[… truncated]"
_INPUT_ECHO_CHARS = 200


@dataclass(frozen=True, slots=True)
class FileText:
    """An attached file's text as the agent read it (``truncated``: cut to fit the prompt)."""

    id: str
    name: str
    text: str
    truncated: bool = False


@cache
def load_prompt(session_type: str) -> str:
    """The system prompt of a session type; unknown types raise ``KeyError``."""
    try:
        known = SessionType(session_type)
    except ValueError:
        types = ", ".join(member.value for member in SessionType)
        raise KeyError(f"no prompt for session type {session_type!r}; prompts exist for: {types}") from None
    resource = resources.files(_WORKSPACE_PACKAGE) / "prompts" / f"{known.value}.md"
    return resource.read_text(encoding="utf-8").strip()


def bound_file_texts(
    texts: Sequence[FileText], max_file_chars: int, max_context_chars: int
) -> list[FileText]:
    """Each file cut to ``max_file_chars``, and the later files cut (or emptied) so that all
    of them fit ``max_context_chars``: every attached file still shows up by name."""
    bounded: list[FileText] = []
    room = max_context_chars
    for item in texts:
        keep = max(0, min(max_file_chars, room))
        cut = len(item.text) > keep
        text = item.text[:keep]
        room -= len(text)
        bounded.append(FileText(item.id, item.name, text, item.truncated or cut))
    return bounded


def _context(envelope: TaskEnvelope, files: Sequence[FileText]) -> str:
    parts: list[str] = []
    for item in files:
        body = item.text + (_TRUNCATED if item.truncated else "")
        parts.append(f'<file name="{item.name}" id="{item.id}">\n{body}\n</file>')
    if envelope.github is not None:
        ref = f" (ref {envelope.github.ref})" if envelope.github.ref else ""
        parts.append(f"A GitHub repository is linked to this project: {envelope.github.repository}{ref}.")
    return "\n\n".join(parts)


def build_messages(
    system_prompt: str, envelope: TaskEnvelope, files: Sequence[FileText]
) -> list[dict[str, str]]:
    """Chat-completions messages: the system prompt, the bounded history, then the files'
    text and the user's input as one final user message."""
    messages: list[dict[str, str]] = [{"role": "system", "content": system_prompt}]
    for turn in envelope.history:
        role = "assistant" if turn.role == "ASSISTANT" else "user"
        messages.append({"role": role, "content": turn.content})
    context = _context(envelope, files)
    content = f"Attached material:\n\n{context}\n\nRequest:\n{envelope.input}" if context else envelope.input
    messages.append({"role": "user", "content": content})
    return messages


def offline_answer(envelope: TaskEnvelope, files: Sequence[FileText], quote_lines: int) -> str:
    """A deterministic answer for servers without a model, labelled as offline. It quotes the
    first lines of each attached file, so a caller can see the file was fetched and read."""
    request = " ".join(envelope.input.split())
    if len(request) > _INPUT_ECHO_CHARS:
        request = request[:_INPUT_ECHO_CHARS] + "…"
    lines = [
        f"[offline] {envelope.session_type} answer (no language model is configured; "
        "this is a deterministic placeholder).",
        "",
        f"Request: {request}",
    ]
    if envelope.history:
        lines.append(f"Earlier messages considered: {len(envelope.history)}.")
    if files:
        lines += ["", "Attached files read:"]
        for item in files:
            lines.append(f"- {item.name}")
            quoted = [line.strip() for line in item.text.splitlines() if line.strip()][:quote_lines]
            lines += [f"  > {line}" for line in quoted] or ["  > (no text)"]
    else:
        lines += ["", "No files were attached."]
    return "\n".join(lines) + "\n"

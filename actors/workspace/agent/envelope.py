"""The task envelope: everything a worker needs for one run, and nothing it must not see.

Built by the session after it reserved quota, validated the files and stored the user's
message; picklable (it crosses to a Ray worker actor) and convertible to and from JSON for
any other transport. Files come as signed URLs only: the worker has no store access.
The GitHub token is kept out of ``repr`` and out of ``to_json`` unless asked for, and the
worker never puts it in a prompt or a result.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..history import HistoryTurn

__all__ = ["AttachedFile", "GithubAccess", "HistoryTurn", "TaskEnvelope"]


@dataclass(frozen=True, slots=True)
class AttachedFile:
    """A READY file of the project, fetched by the worker through ``url`` (signed, expiring)."""

    id: str
    name: str
    content_type: str
    size: int
    url: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class GithubAccess:
    """Project-scoped GitHub access for the run: a repository and a token limited to it."""

    repository: str
    token: str = field(repr=False)
    ref: str | None = None


@dataclass(frozen=True, slots=True)
class TaskEnvelope:
    run_id: str
    session_id: str
    project_id: str
    user_id: str
    # The run's type (one of the session types): it picks the prompt file.
    session_type: str
    input: str
    history: tuple[HistoryTurn, ...] = ()
    files: tuple[AttachedFile, ...] = ()
    github: GithubAccess | None = None

    def to_json(self, *, include_secrets: bool = False) -> dict[str, Any]:
        """camelCase JSON; the token (and the signed URLs) only with ``include_secrets``."""
        files: list[dict[str, Any]] = []
        for f in self.files:
            entry: dict[str, Any] = {
                "id": f.id,
                "name": f.name,
                "contentType": f.content_type,
                "size": f.size,
            }
            if include_secrets:
                entry["url"] = f.url
            files.append(entry)
        github: dict[str, Any] | None = None
        if self.github is not None:
            github = {"repository": self.github.repository, "ref": self.github.ref}
            if include_secrets:
                github["token"] = self.github.token
        return {
            "runId": self.run_id,
            "sessionId": self.session_id,
            "projectId": self.project_id,
            "userId": self.user_id,
            "sessionType": self.session_type,
            "input": self.input,
            "history": [{"role": t.role, "content": t.content} for t in self.history],
            "files": files,
            "github": github,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> TaskEnvelope:
        """The inverse of ``to_json(include_secrets=True)``; ``KeyError``/``TypeError`` on a
        malformed envelope (it comes from our own session, never from a client)."""
        github = data.get("github")
        return cls(
            run_id=str(data["runId"]),
            session_id=str(data["sessionId"]),
            project_id=str(data["projectId"]),
            user_id=str(data["userId"]),
            session_type=str(data["sessionType"]),
            input=str(data["input"]),
            history=tuple(HistoryTurn(str(t["role"]), str(t["content"])) for t in data.get("history", ())),
            files=tuple(
                AttachedFile(
                    str(f["id"]), str(f["name"]), str(f["contentType"]), int(f["size"]), str(f["url"])
                )
                for f in data.get("files", ())
            ),
            github=None
            if github is None
            else GithubAccess(str(github["repository"]), str(github["token"]), github.get("ref")),
        )

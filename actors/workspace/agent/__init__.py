"""The worker side of a workspace run: the task envelope, the agent, its result payload.

The session builds a ``TaskEnvelope``; a pool of Ray worker actors each hosts one
``WorkspaceAgent`` and calls ``run(envelope, on_output)``, which streams the answer's text
through ``on_output`` and returns the payload described in ``result.py``.
"""

from __future__ import annotations

from .envelope import AttachedFile as AttachedFile
from .envelope import GithubAccess as GithubAccess
from .envelope import TaskEnvelope as TaskEnvelope
from .fetch import FileFetchError as FileFetchError
from .prompt import load_prompt as load_prompt
from .result import FailureCode as FailureCode
from .result import failure_payload as failure_payload
from .result import success_payload as success_payload
from .worker import OFFLINE_MODEL as OFFLINE_MODEL
from .worker import OutputFn as OutputFn
from .worker import WorkspaceAgent as WorkspaceAgent

__all__ = [
    "OFFLINE_MODEL",
    "AttachedFile",
    "FailureCode",
    "FileFetchError",
    "GithubAccess",
    "OutputFn",
    "TaskEnvelope",
    "WorkspaceAgent",
    "failure_payload",
    "load_prompt",
    "success_payload",
]

"""Bridge versions and undo (``/api/sessions/{id}/versions``, ``.../changes/{cid}/undo``).

Security follows the Bridge's (``ATELIER_BRIDGE_AUTH``), as the routes share its prefix.
"""

from __future__ import annotations

from .bridge import TAG
from .common import Schema, body, idempotent, json_response, obj, ok_and, operation, path_param, ref

__all__ = ["SCHEMAS", "paths"]

_ID = path_param("id", "The session id.", {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,128}$"})

# Its answers' schemas (Version, VersionState, VersionDiff, ChangeOutcome) are generated
# from ``actors/bridge/answers.py`` with the Bridge's.
SCHEMAS: dict[str, Schema] = {}


def _version_ref(name: str, description: str) -> Schema:
    return path_param(name, description, {"type": "string", "minLength": 1})


def paths(*, auth: bool) -> dict[str, Schema]:
    base = "/api/sessions/{id}"
    return {
        base + "/versions": {
            "parameters": [_ID],
            "get": operation(
                "listVersions",
                TAG,
                "List the session's versions",
                {
                    "200": json_response(
                        "Named and automatic versions, oldest first.",
                        obj(
                            {"ok": {"const": True}, "versions": {"type": "array", "items": ref("Version")}},
                            "ok",
                            "versions",
                        ),
                    )
                },
                errors=(404,),
                auth=auth,
            ),
            "post": idempotent(
                operation(
                    "createVersion",
                    TAG,
                    "Name the current state as a version",
                    {
                        "201": json_response(
                            "The new version.",
                            obj({"ok": {"const": True}, "version": ref("Version")}, "ok", "version"),
                        )
                    },
                    request=body(
                        ref("CreateVersionBody"),
                        required=False,
                    ),
                    errors=(404,),
                    auth=auth,
                )
            ),
        },
        base + "/versions/{vid}/state": {
            "parameters": [_ID, _version_ref("vid", "The version id.")],
            "get": operation(
                "getVersionState",
                TAG,
                "Get the state a version holds",
                {
                    "200": json_response(
                        "Spec, theme, theme CSS and the version.", ok_and(ref("VersionState"))
                    )
                },
                errors=(404,),
                auth=auth,
            ),
        },
        base + "/versions/{a}/diff/{b}": {
            "parameters": [
                _ID,
                _version_ref("a", "A version id, or `current`."),
                _version_ref("b", "A version id, or `current`."),
            ],
            "get": operation(
                "diffVersions",
                TAG,
                "Compare two versions (or a version and the current state)",
                {
                    "200": json_response(
                        "Elements added, removed and changed; root, state and theme changes.",
                        ok_and(ref("VersionDiff")),
                    )
                },
                errors=(404,),
                auth=auth,
            ),
        },
        base + "/versions/{vid}/restore": {
            "parameters": [_ID, _version_ref("vid", "The version id.")],
            "post": idempotent(
                operation(
                    "restoreVersion",
                    TAG,
                    "Restore a version (as a new change, which can be undone)",
                    {"200": json_response("The change that restored it.", ok_and(ref("ChangeOutcome")))},
                    request=body(ref("AgentBody"), required=False),
                    errors=(404,),
                    auth=auth,
                )
            ),
        },
        base + "/changes/{cid}/undo": {
            "parameters": [_ID, _version_ref("cid", "The change id (`changeId` of an ops answer).")],
            "post": idempotent(
                operation(
                    "undoChange",
                    TAG,
                    "Undo one change",
                    {"200": json_response("The change that undid it.", ok_and(ref("ChangeOutcome")))},
                    description="409 when the change was already undone, or later changes touched the same "
                    "elements (`conflicts` lists them).",
                    request=body(ref("AgentBody"), required=False),
                    errors=(404, 409),
                    auth=auth,
                )
            ),
        },
    }

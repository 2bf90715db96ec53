"""The caller's own account: who the bearer token is, and the runs left in the quota period."""

from __future__ import annotations

from .common import Schema, json_response, obj, operation, ref

__all__ = ["TAG", "paths"]

TAG = "Account"


def paths() -> dict[str, Schema]:
    return {
        "/api/me": {
            "get": operation(
                "getMe",
                TAG,
                "Who the bearer token is",
                {"200": json_response("The token's user.", obj({"user": {"type": "string"}}, "user"))},
            ),
        },
        "/api/v1/quota": {
            "get": operation(
                "getQuota",
                TAG,
                "The caller's AI runs left in the current quota period",
                {
                    "200": json_response(
                        "Limit, use and reset time.",
                        ref("QuotaAnswer"),
                    )
                },
            ),
        },
    }

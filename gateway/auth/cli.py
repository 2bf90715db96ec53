"""``atelier token``: mint an HS256 bearer token that this server's Verifier accepts."""

from __future__ import annotations

import json

from .settings import AuthSettings
from .tokens import mint_token

__all__ = ["mint_command", "parse_claims", "signin_link"]


def mint_command(settings: AuthSettings, user: str, ttl: int | None, claims: list[str]) -> str:
    """A token for ``user``; ``claims`` are ``KEY=VALUE`` strings (see :func:`parse_claims`).

    The configured audience and issuer are added unless a claim sets them, since the
    Verifier would otherwise refuse the token it was minted for.
    """
    extra: dict[str, object] = {}
    if settings.audience is not None:
        extra["aud"] = settings.audience
    if settings.issuer is not None:
        extra["iss"] = settings.issuer
    extra.update(parse_claims(claims))
    return mint_token(settings.secret, user, settings.token_ttl if ttl is None else ttl, **extra)


def signin_link(base_url: str, token: str) -> str:
    """The pages' sign-in link for ``token``: it rides in the fragment, which browsers never
    send to a server (nor to its logs); the sign-in page keeps it for the tab."""
    return f"{base_url.rstrip('/')}/signin#token={token}"


def parse_claims(claims: list[str]) -> dict[str, object]:
    """``["role=admin", "n=3", "tags=[\\"a\\"]"]`` → claims; a value that parses as JSON is
    taken as JSON, anything else as a string."""
    parsed: dict[str, object] = {}
    for item in claims:
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ValueError(f"claim must be KEY=VALUE, got {item!r}")
        try:
            value: object = json.loads(raw)
        except ValueError:
            value = raw
        parsed[key] = value
    return parsed

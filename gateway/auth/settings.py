"""Auth settings, built once from the environment at the entry point and passed down."""

from __future__ import annotations

import logging
import math
import os
import secrets
import stat
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

from actors.env import env_flag

__all__ = [
    "ASYMMETRIC_ALGORITHMS",
    "HS_ALGORITHM",
    "MIN_SECRET_BYTES",
    "SECRET_FILE_NAME",
    "AuthSettings",
    "load_or_create_secret",
]

log = logging.getLogger(__name__)

HS_ALGORITHM = "HS256"
# What an identity provider may sign with; HS* and "none" can never come from a JWKS.
ASYMMETRIC_ALGORITHMS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"}
)
# RFC 7518 §3.2: an HS256 key must be at least as long as the hash output.
MIN_SECRET_BYTES = 32
SECRET_FILE_NAME = "auth-secret"


@dataclass(frozen=True, slots=True)
class AuthSettings:
    """How bearer JWTs are verified and minted.

    HS256 (``secret``) is always accepted; when ``jwks_url`` is set, tokens whose header
    ``alg`` is one of ``jwks_algorithms`` are verified against the identity provider's keys.
    """

    secret: str = field(repr=False)
    jwks_url: str | None = None
    jwks_algorithms: tuple[str, ...] = ("RS256", "ES256")
    jwks_lifespan: float = 300.0
    jwks_cooldown: float = 30.0
    jwks_timeout: float = 10.0
    audience: str | None = None
    issuer: str | None = None
    leeway: float = 30.0
    token_ttl: int = 86400
    bridge_auth: bool = False

    @classmethod
    def from_env(cls, env: Mapping[str, str], data_dir: Path) -> AuthSettings:
        """Settings from ``env``; reads (or creates) ``<data_dir>/auth-secret`` only when
        ``ATELIER_AUTH_SECRET`` is unset."""
        d = _DEFAULTS
        secret = env.get("ATELIER_AUTH_SECRET") or None
        if secret is None:
            secret = load_or_create_secret(data_dir / SECRET_FILE_NAME)
        else:
            _check_secret(secret, "ATELIER_AUTH_SECRET")
        return cls(
            secret=secret,
            jwks_url=_url(env, "ATELIER_AUTH_JWKS_URL"),
            jwks_algorithms=_algorithms(env, "ATELIER_AUTH_JWKS_ALGORITHMS", d.jwks_algorithms),
            jwks_lifespan=_number(env, "ATELIER_AUTH_JWKS_LIFESPAN", d.jwks_lifespan, positive=True),
            jwks_cooldown=_number(env, "ATELIER_AUTH_JWKS_COOLDOWN", d.jwks_cooldown),
            jwks_timeout=_number(env, "ATELIER_AUTH_JWKS_TIMEOUT", d.jwks_timeout, positive=True),
            audience=env.get("ATELIER_AUTH_AUDIENCE") or None,
            issuer=env.get("ATELIER_AUTH_ISSUER") or None,
            leeway=_number(env, "ATELIER_AUTH_LEEWAY", d.leeway),
            token_ttl=_ttl(env, "ATELIER_AUTH_TOKEN_TTL", d.token_ttl),
            bridge_auth=env_flag(env, "ATELIER_BRIDGE_AUTH", d.bridge_auth),
        )


_DEFAULTS = AuthSettings(secret="")


def load_or_create_secret(path: Path) -> str:
    """The HS256 secret stored at ``path``, generating one (mode 0600) on first use.

    The new file is written under a temporary name and linked into place, so a concurrent
    starter either wins the link or reads the complete secret the winner wrote.
    """
    try:
        return _read_secret(path)
    except FileNotFoundError:
        log.info("generating an auth secret at %s", path)
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(MIN_SECRET_BYTES)
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)  # mkstemp: mode 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(secret + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(temp, path)
        except FileExistsError:
            return _read_secret(path)
    finally:
        os.unlink(temp)
    log.info("generated a new auth secret path=%s", path)
    return secret


def _read_secret(path: Path) -> str:
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        log.warning("auth secret is readable by others path=%s mode=%o; chmod 600 it", path, mode)
    secret = path.read_text(encoding="utf-8").strip()
    _check_secret(secret, str(path))
    return secret


def _check_secret(secret: str, source: str) -> None:
    if len(secret.encode()) < MIN_SECRET_BYTES:
        raise ValueError(f"{source}: the auth secret must be at least {MIN_SECRET_BYTES} bytes long")


def _url(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name) or None
    if value is not None:
        parsed = urlparse(value)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise ValueError(f"{name} must be an http(s) URL, got {value!r}")
    return value


def _algorithms(env: Mapping[str, str], name: str, default: tuple[str, ...]) -> tuple[str, ...]:
    raw = env.get(name)
    if not raw:
        return default
    names = tuple(dict.fromkeys(part.strip() for part in raw.split(",") if part.strip()))
    unknown = [alg for alg in names if alg not in ASYMMETRIC_ALGORITHMS]
    if not names or unknown:
        allowed = ", ".join(sorted(ASYMMETRIC_ALGORITHMS))
        raise ValueError(f"{name} must list algorithms among {allowed}; got {raw!r}")
    return names


def _number(env: Mapping[str, str], name: str, default: float, *, positive: bool = False) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{name} must be a number of seconds, got {raw!r}") from None
    if not math.isfinite(value) or value < 0 or (positive and value == 0):
        bound = "greater than 0" if positive else "0 or more"
        raise ValueError(f"{name} must be {bound} seconds, got {raw!r}")
    return value


def _ttl(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{name} must be a whole number of seconds, got {raw!r}") from None
    if value <= 0:
        raise ValueError(f"{name} must be greater than 0 seconds, got {raw!r}")
    return value

"""Bearer-JWT verification and minting: HS256 with our secret, RS*/ES* through a JWKS."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import jwt
from jwt.exceptions import (
    DecodeError,
    ExpiredSignatureError,
    ImmatureSignatureError,
    InvalidAlgorithmError,
    InvalidAudienceError,
    InvalidIssuerError,
    InvalidKeyError,
    InvalidSignatureError,
    InvalidSubjectError,
    MissingRequiredClaimError,
    PyJWKClientConnectionError,
    PyJWKClientError,
    PyJWKSetError,
    PyJWTError,
)

from .settings import HS_ALGORITHM, AuthSettings

__all__ = ["AuthError", "Principal", "Verifier", "mint_token"]

log = logging.getLogger(__name__)

_RESERVED_CLAIMS = frozenset({"sub", "iat", "exp"})


class AuthError(Exception):
    """A request could not be authenticated.

    ``status`` is 401 for anything wrong with the token, 503 when the identity provider's
    keys cannot be fetched (the client is not at fault and may retry). ``message`` is a fixed
    phrase, never text taken from the token, so it is safe to return to the client.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int = 401,
        code: str = "unauthorized",
        challenge: str | None = "invalid_token",
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        # RFC 6750 §3.1 error code; None when the request carried no bearer credentials.
        self.challenge = challenge


@dataclass(frozen=True, slots=True)
class Principal:
    """The authenticated caller: ``user_id`` is the token's ``sub``."""

    user_id: str
    claims: Mapping[str, object]


class Verifier:
    """Checks bearer JWTs against the configured keys, algorithms, audience and issuer."""

    def __init__(self, settings: AuthSettings) -> None:
        self._settings = settings
        self._jwks: jwt.PyJWKClient | None = None
        if settings.jwks_url is not None:
            # The JWK *set* is cached for ``jwks_lifespan``, not each key forever
            # (``cache_keys``): a key the provider withdraws stops verifying once the set
            # is refetched. An unknown kid forces at most one refetch per ``jwks_cooldown``.
            self._jwks = jwt.PyJWKClient(
                settings.jwks_url,
                cache_keys=False,
                cache_jwk_set=True,
                lifespan=settings.jwks_lifespan,
                timeout=settings.jwks_timeout,
                cooldown_duration=settings.jwks_cooldown,
            )
        # One JWKS lookup thread at a time: other requests wait on the loop, not in the
        # executor, and find the key the first one fetched.
        self._lookup = asyncio.Lock()
        self._failed_at: float | None = None

    @property
    def settings(self) -> AuthSettings:
        return self._settings

    @property
    def algorithms(self) -> frozenset[str]:
        """Every ``alg`` this verifier accepts."""
        if self._jwks is None:
            return frozenset({HS_ALGORITHM})
        return frozenset({HS_ALGORITHM, *self._settings.jwks_algorithms})

    def verify(self, token: str) -> Principal:
        """The principal ``token`` proves; raises AuthError.

        Blocks on HTTP when a JWKS-signed token needs the provider's keys fetched: inside
        the event loop use :meth:`verify_async`.
        """
        alg, kid = self._header(token)
        if kid is None:
            return self._decode(token, self._settings.secret, alg)
        key = self._cached_key(kid)
        return self._decode(token, self._fetch_key(kid) if key is None else key, alg)

    async def verify_async(self, token: str) -> Principal:
        """As :meth:`verify`; a JWKS fetch (blocking urllib) runs in a thread."""
        alg, kid = self._header(token)
        if kid is None:
            return self._decode(token, self._settings.secret, alg)
        key = self._cached_key(kid)
        if key is None:
            key = await self._fetch_key_async(kid)
        return self._decode(token, key, alg)

    async def _fetch_key_async(self, kid: str) -> jwt.PyJWK:
        async with self._lookup:
            # The request that held the lock may have fetched this very key.
            key = self._cached_key(kid)
            if key is None:
                key = await asyncio.to_thread(self._fetch_key, kid)
            return key

    def _header(self, token: str) -> tuple[str, str | None]:
        """The token's ``alg``, and its ``kid`` when the JWKS is to be asked (else None)."""
        try:
            header = jwt.get_unverified_header(token)
        except PyJWTError:
            raise AuthError("malformed token") from None
        alg = header.get("alg")
        if not isinstance(alg, str) or alg not in self.algorithms:
            raise AuthError("token algorithm not accepted")
        if alg == HS_ALGORITHM:
            return alg, None
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise AuthError("token has no key id")
        return alg, kid

    def _cached_key(self, kid: str) -> jwt.PyJWK | None:
        """The key for ``kid`` from the unexpired cached set, without I/O."""
        cache = self._jwks.jwk_set_cache if self._jwks is not None else None
        jwk_set = cache.get() if cache is not None else None
        if jwk_set is None:
            return None
        for key in jwk_set.keys:
            if key.key_id == kid and key.public_key_use in ("sig", None):
                return key
        return None

    def _fetch_key(self, kid: str) -> jwt.PyJWK:
        """The key for ``kid``, fetching the set if needed (blocking); raises AuthError."""
        assert self._jwks is not None  # _header only returns a kid for a JWKS algorithm
        failed_at = self._failed_at
        if failed_at is not None and time.monotonic() - failed_at < self._settings.jwks_cooldown:
            # The provider just failed us: answer 503 at once rather than queue every
            # request behind another fetch that would likely time out too.
            raise _keys_unavailable()
        try:
            key = self._jwks.get_signing_key(kid)
        except PyJWKClientConnectionError as exc:
            self._failed_at = time.monotonic()
            log.warning("jwks unreachable url=%s: %s", self._settings.jwks_url, exc)
            raise _keys_unavailable() from None
        except PyJWKClientError as exc:
            # Also raised for a set without signing keys, but an unknown kid is the case a
            # client can cause; the log line tells the two apart.
            log.info("jwks refused kid=%s: %s", kid, exc)
            raise AuthError("unknown signing key") from None
        except (PyJWKSetError, ValueError) as exc:
            # ValueError: the endpoint answered with something that is not JSON.
            self._failed_at = time.monotonic()
            log.warning("jwks unusable url=%s: %s", self._settings.jwks_url, exc)
            raise _keys_unavailable() from None
        self._failed_at = None
        return key

    def _decode(self, token: str, key: str | jwt.PyJWK, alg: str) -> Principal:
        settings = self._settings
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=[alg],
                audience=settings.audience,
                issuer=settings.issuer,
                leeway=settings.leeway,
                options={"require": ["exp", "sub"], "enforce_minimum_key_length": True},
            )
        except PyJWTError as exc:
            log.debug("token refused alg=%s: %s", alg, exc)
            raise AuthError(_describe(exc)) from None
        subject = claims["sub"]
        if not subject:
            raise AuthError("token has an empty subject")
        return Principal(user_id=subject, claims=MappingProxyType(claims))


def _keys_unavailable() -> AuthError:
    return AuthError(
        "identity provider keys unavailable; retry", status=503, code="auth_unavailable", challenge=None
    )


def _describe(exc: PyJWTError) -> str:
    # Most specific first: several of these subclass one another.
    if isinstance(exc, ExpiredSignatureError):
        return "token expired"
    if isinstance(exc, ImmatureSignatureError):
        return "token not yet valid"
    if isinstance(exc, InvalidSignatureError):
        return "invalid token signature"
    if isinstance(exc, InvalidAlgorithmError):
        return "token algorithm not accepted"
    if isinstance(exc, MissingRequiredClaimError):
        return f"token has no {exc.claim} claim"
    if isinstance(exc, InvalidAudienceError):
        return "invalid token audience"
    if isinstance(exc, InvalidIssuerError):
        return "invalid token issuer"
    if isinstance(exc, InvalidSubjectError):
        return "invalid token subject"
    if isinstance(exc, InvalidKeyError):
        return "token signed with an unacceptable key"
    if isinstance(exc, DecodeError):
        return "malformed token"
    return "invalid token"


def mint_token(secret: str, user_id: str, ttl: int, **extra_claims: object) -> str:
    """An HS256 token for ``user_id`` valid for ``ttl`` seconds from now."""
    if not user_id:
        raise ValueError("user_id must not be empty")
    if ttl <= 0:
        raise ValueError(f"ttl must be greater than 0 seconds, got {ttl}")
    reserved = _RESERVED_CLAIMS.intersection(extra_claims)
    if reserved:
        raise ValueError(f"claims {sorted(reserved)} are set from user_id and ttl")
    now = int(time.time())
    payload: dict[str, object] = {**extra_claims, "sub": user_id, "iat": now, "exp": now + ttl}
    return jwt.encode(payload, secret, algorithm=HS_ALGORITHM)

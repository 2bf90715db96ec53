"""Signed download URLs (pure): HMAC-SHA256 over the path and the expiry.

``sign`` gives the query to append to a path; the file server calls ``verify`` with the
path it was asked for and the query it got. The signature covers the exact path string, so
sign the form the server sees (aiohttp's ``request.path``, percent-decoded) and a URL cannot
be re-pointed at another file, nor its expiry moved, without the secret.

A bad signature (tampered path or expiry, wrong secret, missing or malformed parameters) is
``SignatureInvalid``; a good one past its expiry is ``SignatureExpired``. The signature is
checked first, so a forged expiry never reads as merely expired. Both are ``SignatureError``:
the file server answers 403 to either.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from urllib.parse import urlencode

from .errors import SignatureError, SignatureExpired, SignatureInvalid

__all__ = [
    "EXPIRES_PARAM",
    "MIN_SECRET_BYTES",
    "SIGNATURE_PARAM",
    "SignatureError",
    "SignatureExpired",
    "SignatureInvalid",
    "sign",
    "signed_url",
    "verify",
]

EXPIRES_PARAM = "expires"
SIGNATURE_PARAM = "signature"
# A short secret could be guessed offline from one signed URL.
MIN_SECRET_BYTES = 32
# Versioned, so the signed message can change later without old URLs verifying by accident.
_DOMAIN = b"atelier-download-v1"
_MAX_EXPIRES_DIGITS = 12
_SIGNATURE_CHARS = 43  # 32 bytes, base64url without padding


def _check_secret(secret: bytes) -> None:
    if len(secret) < MIN_SECRET_BYTES:
        raise ValueError(f"the signing secret must be at least {MIN_SECRET_BYTES} bytes")


def _mac(path: str, expires_at: int, secret: bytes) -> str:
    message = b"\n".join((_DOMAIN, path.encode("utf-8", "surrogatepass"), str(expires_at).encode()))
    digest = hmac.new(secret, message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def sign(path: str, expires_at: int, secret: bytes) -> str:
    """The query string (without ``?``) that makes ``path`` downloadable until ``expires_at``
    (Unix seconds)."""
    _check_secret(secret)
    if not path.startswith("/"):
        raise ValueError(f"sign an absolute path, not {path!r}")
    if expires_at < 0:
        raise ValueError("expires_at must be a Unix time in seconds")
    return urlencode({EXPIRES_PARAM: str(expires_at), SIGNATURE_PARAM: _mac(path, expires_at, secret)})


def signed_url(base_url: str, path: str, expires_at: int, secret: bytes) -> str:
    """``base_url`` (scheme and host, no trailing slash needed) + path + signed query."""
    return f"{base_url.rstrip('/')}{path}?{sign(path, expires_at, secret)}"


def verify(path: str, query: Mapping[str, str], now: float, secret: bytes) -> int:
    """Checks a request for ``path`` with ``query``; returns its expiry or raises."""
    _check_secret(secret)
    raw_expires = query.get(EXPIRES_PARAM)
    signature = query.get(SIGNATURE_PARAM)
    if raw_expires is None or signature is None:
        raise SignatureInvalid("the download URL is not signed")
    if (
        not raw_expires.isascii()
        or not raw_expires.isdigit()
        or len(raw_expires) > _MAX_EXPIRES_DIGITS
        or len(signature) != _SIGNATURE_CHARS
        or not signature.isascii()
    ):
        raise SignatureInvalid("the download URL's signature is malformed")
    expires_at = int(raw_expires)
    # compare_digest: the time taken says nothing about how much of a guess was right.
    if not hmac.compare_digest(signature, _mac(path, expires_at, secret)):
        raise SignatureInvalid("the download URL's signature does not match")
    if now >= expires_at:
        raise SignatureExpired(expires_at)
    return expires_at

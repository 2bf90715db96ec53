"""Signed download URLs: round trip, tampering, expiry, malformed input."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import pytest

from actors.workspace.signing import (
    SignatureExpired,
    SignatureInvalid,
    sign,
    signed_url,
    verify,
)

SECRET = b"s" * 32
OTHER = b"o" * 32
PATH = "/api/v1/projects/p1/files/f1/download"
EXPIRES = 1_800_000_000


def query(path: str = PATH, expires: int = EXPIRES, secret: bytes = SECRET) -> dict[str, str]:
    return dict(parse_qsl(sign(path, expires, secret)))


def test_a_signed_path_verifies_until_it_expires() -> None:
    assert set(query()) == {"expires", "signature"}
    assert verify(PATH, query(), EXPIRES - 1, SECRET) == EXPIRES
    with pytest.raises(SignatureExpired) as expired:
        verify(PATH, query(), EXPIRES, SECRET)
    assert expired.value.expires_at == EXPIRES


def test_signed_url() -> None:
    url = signed_url("http://127.0.0.1:8080/", PATH, EXPIRES, SECRET)
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == ("http", "127.0.0.1:8080", PATH)
    assert verify(parts.path, dict(parse_qsl(parts.query)), 0, SECRET) == EXPIRES


@pytest.mark.parametrize(
    "tamper",
    [
        lambda q: {**q, "expires": str(EXPIRES + 3600)},  # a later expiry
        lambda q: {**q, "signature": q["signature"][:-1] + ("A" if q["signature"][-1] != "A" else "B")},
        lambda q: {"expires": q["expires"]},
        lambda q: {"signature": q["signature"]},
        lambda q: {},
        lambda q: {**q, "expires": "soon"},
        lambda q: {**q, "expires": "-5"},
        lambda q: {**q, "signature": q["signature"] + "x"},
        lambda q: {**q, "signature": "é" * 43},
    ],
)
def test_tampered_queries_are_invalid(tamper: object) -> None:
    bad = tamper(query())  # type: ignore[operator]
    with pytest.raises(SignatureInvalid):
        verify(PATH, bad, 0, SECRET)


def test_a_signature_is_bound_to_its_path_and_secret() -> None:
    with pytest.raises(SignatureInvalid):
        verify("/api/v1/projects/p1/files/f2/download", query(), 0, SECRET)
    with pytest.raises(SignatureInvalid):
        verify(PATH, query(), 0, OTHER)


def test_a_forged_expiry_is_invalid_even_when_it_is_past() -> None:
    # Not "expired": the signature is checked first, so a forgery never reads as stale.
    forged = {**query(), "expires": str(EXPIRES - 10)}
    with pytest.raises(SignatureInvalid):
        verify(PATH, forged, EXPIRES + 100, SECRET)


def test_weak_secrets_and_relative_paths_are_refused() -> None:
    with pytest.raises(ValueError, match="the signing secret must be at least 32 bytes"):
        sign(PATH, EXPIRES, b"short")
    with pytest.raises(ValueError, match="the signing secret must be at least 32 bytes"):
        verify(PATH, query(), 0, b"short")
    with pytest.raises(ValueError, match="sign an absolute path, not 'files/f1'"):
        sign("files/f1", EXPIRES, SECRET)

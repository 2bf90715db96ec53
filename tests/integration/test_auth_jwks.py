"""RS256/ES256 verification against a real JWKS endpoint served over HTTP on 127.0.0.1."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import jwt
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm
from jwt.utils import base64url_encode

from gateway.auth import (
    VERIFIER,
    AuthError,
    AuthSettings,
    Verifier,
    auth_error_response,
    mint_token,
    require_user,
)

SECRET = "j" * 32
ServerFactory = Callable[[web.Application], Awaitable[TestServer]]
Client = TestClient[web.Request, web.Application]


@dataclass
class SigningKey:
    kid: str
    alg: str
    private: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey

    def jwk(self) -> dict[str, Any]:
        public = self.private.public_key()
        if isinstance(public, rsa.RSAPublicKey):
            data = json.loads(RSAAlgorithm.to_jwk(public))
        else:
            data = json.loads(ECAlgorithm.to_jwk(public))
        return {**data, "kid": self.kid, "alg": self.alg, "use": "sig"}

    def sign(self, sub: str = "idp-user", kid: str | None = None, **claims: Any) -> str:
        payload = {"sub": sub, "exp": int(time.time()) + 300, **claims}
        return jwt.encode(payload, self.private, algorithm=self.alg, headers={"kid": kid or self.kid})


@dataclass
class JwksEndpoint:
    """What the fake identity provider serves, changeable mid-test, and how often it was asked."""

    keys: list[SigningKey]
    status: int = 200
    hits: int = 0
    url: str = ""
    server: TestServer | None = field(default=None, repr=False)

    async def handle(self, request: web.Request) -> web.Response:
        self.hits += 1
        if self.status != 200:
            return web.Response(status=self.status, text="identity provider down")
        return web.json_response({"keys": [key.jwk() for key in self.keys]})


def _rsa(kid: str) -> SigningKey:
    return SigningKey(kid, "RS256", rsa.generate_private_key(public_exponent=65537, key_size=2048))


@pytest.fixture(scope="module")
def key_a() -> SigningKey:
    return _rsa("key-a")


@pytest.fixture(scope="module")
def key_b() -> SigningKey:
    return _rsa("key-b")


@pytest.fixture(scope="module")
def key_ec() -> SigningKey:
    return SigningKey("key-ec", "ES256", ec.generate_private_key(ec.SECP256R1()))


@pytest.fixture
async def jwks(aiohttp_server: ServerFactory, key_a: SigningKey, key_ec: SigningKey) -> JwksEndpoint:
    endpoint = JwksEndpoint(keys=[key_a, key_ec])
    app = web.Application()
    app.router.add_get("/.well-known/jwks.json", endpoint.handle)
    server = await aiohttp_server(app)  # binds 127.0.0.1 on a free port
    endpoint.server = server
    endpoint.url = str(server.make_url("/.well-known/jwks.json"))
    assert endpoint.url.startswith("http://127.0.0.1:")
    return endpoint


def _verifier(jwks: JwksEndpoint, **changes: Any) -> Verifier:
    return Verifier(AuthSettings(secret=SECRET, jwks_url=jwks.url, **changes))


async def _refusal(verifier: Verifier, token: str) -> AuthError:
    with pytest.raises(AuthError) as caught:
        await verifier.verify_async(token)
    return caught.value


async def test_rs256_and_es256_tokens_verify_and_keys_are_cached(
    jwks: JwksEndpoint, key_a: SigningKey, key_ec: SigningKey
) -> None:
    verifier = _verifier(jwks)
    principal = await verifier.verify_async(key_a.sign("alice", email="a@example.com"))
    assert (principal.user_id, principal.claims["email"]) == ("alice", "a@example.com")
    assert (await verifier.verify_async(key_ec.sign("bob"))).user_id == "bob"
    assert (await verifier.verify_async(key_a.sign("carol"))).user_id == "carol"
    assert jwks.hits == 1  # one fetch of the key set serves every later token


async def test_hs256_still_accepted_alongside_jwks(jwks: JwksEndpoint) -> None:
    verifier = _verifier(jwks)
    assert (await verifier.verify_async(mint_token(SECRET, "cli-user", 60))).user_id == "cli-user"
    assert jwks.hits == 0


async def test_unknown_kid_is_refused(jwks: JwksEndpoint, key_b: SigningKey) -> None:
    error = await _refusal(_verifier(jwks), key_b.sign())
    assert (error.status, error.message) == (401, "unknown signing key")


async def test_unknown_kid_does_not_refetch_within_cooldown(
    jwks: JwksEndpoint, key_a: SigningKey, key_b: SigningKey
) -> None:
    verifier = _verifier(jwks)  # default cooldown: 30 s
    await verifier.verify_async(key_a.sign())
    for _ in range(5):
        assert (await _refusal(verifier, key_b.sign())).message == "unknown signing key"
    assert jwks.hits == 1


async def test_key_rotation_picks_up_new_key_and_drops_old(
    jwks: JwksEndpoint, key_a: SigningKey, key_b: SigningKey
) -> None:
    verifier = _verifier(jwks, jwks_cooldown=0.0)
    assert (await verifier.verify_async(key_a.sign("before"))).user_id == "before"
    jwks.keys = [key_b]  # the provider rotates: key-a withdrawn, key-b published
    assert (await verifier.verify_async(key_b.sign("after"))).user_id == "after"
    assert jwks.hits == 2
    assert (await _refusal(verifier, key_a.sign())).message == "unknown signing key"


async def test_signature_from_another_key_under_a_known_kid(jwks: JwksEndpoint, key_b: SigningKey) -> None:
    forged = key_b.sign(kid="key-a")
    assert (await _refusal(_verifier(jwks), forged)).message == "invalid token signature"


async def test_algorithm_confusion_is_refused(jwks: JwksEndpoint, key_a: SigningKey) -> None:
    public_pem = key_a.private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    # HS256 "signed" with the provider's public key (PyJWT will not encode this, so by hand):
    # the HS256 path checks it against our secret only, and it fails there.
    header = base64url_encode(b'{"alg":"HS256","typ":"JWT","kid":"key-a"}')
    body = base64url_encode(json.dumps({"sub": "admin", "exp": int(time.time()) + 60}).encode())
    signature = base64url_encode(hmac.new(public_pem, header + b"." + body, hashlib.sha256).digest())
    forged = b".".join([header, body, signature]).decode()
    assert (await _refusal(_verifier(jwks), forged)).message == "invalid token signature"


async def test_unconfigured_asymmetric_algorithm_is_refused(jwks: JwksEndpoint, key_a: SigningKey) -> None:
    token = jwt.encode(
        {"sub": "u", "exp": int(time.time()) + 60}, key_a.private, algorithm="RS384", headers={"kid": "key-a"}
    )
    assert (await _refusal(_verifier(jwks), token)).message == "token algorithm not accepted"
    assert jwks.hits == 0


async def test_token_without_kid_is_refused_without_a_fetch(jwks: JwksEndpoint, key_a: SigningKey) -> None:
    token = jwt.encode({"sub": "u", "exp": int(time.time()) + 60}, key_a.private, algorithm="RS256")
    assert (await _refusal(_verifier(jwks), token)).message == "token has no key id"
    assert jwks.hits == 0


async def test_audience_and_issuer_checked_on_jwks_tokens(jwks: JwksEndpoint, key_a: SigningKey) -> None:
    verifier = _verifier(jwks, audience="atelier", issuer="https://idp.test/")
    good = await verifier.verify_async(key_a.sign("u", aud="atelier", iss="https://idp.test/"))
    assert good.user_id == "u"
    wrong = key_a.sign("u", aud="another-app", iss="https://idp.test/")
    assert (await _refusal(verifier, wrong)).message == "invalid token audience"


async def test_provider_down_is_503_and_not_hammered(jwks: JwksEndpoint, key_a: SigningKey) -> None:
    jwks.status = 500
    verifier = _verifier(jwks)  # default cooldown: 30 s
    for _ in range(3):
        error = await _refusal(verifier, key_a.sign())
        assert (error.status, error.code, error.challenge) == (503, "auth_unavailable", None)
    assert jwks.hits == 1  # after a failure, answer at once until the cooldown has passed


async def test_provider_recovers(jwks: JwksEndpoint, key_a: SigningKey) -> None:
    verifier = _verifier(jwks, jwks_cooldown=0.0)
    jwks.status = 503
    assert (await _refusal(verifier, key_a.sign())).status == 503
    jwks.status = 200
    assert (await verifier.verify_async(key_a.sign("back"))).user_id == "back"
    assert jwks.hits == 2


async def test_concurrent_requests_share_one_fetch(jwks: JwksEndpoint, key_a: SigningKey) -> None:
    verifier = _verifier(jwks)
    principals = await asyncio.gather(*(verifier.verify_async(key_a.sign(f"u{i}")) for i in range(20)))
    assert [p.user_id for p in principals] == [f"u{i}" for i in range(20)]
    assert jwks.hits == 1


async def test_through_the_gateway_glue(
    jwks: JwksEndpoint,
    key_a: SigningKey,
    key_b: SigningKey,
    aiohttp_client: Callable[[web.Application], Awaitable[Client]],
) -> None:
    async def me(request: web.Request) -> web.Response:
        try:
            principal = await require_user(request)
        except AuthError as exc:
            return auth_error_response(exc)
        return web.json_response({"user": principal.user_id})

    app = web.Application()
    app[VERIFIER] = _verifier(jwks)
    app.router.add_get("/me", me)
    client = await aiohttp_client(app)

    async with client.get("/me", headers={"Authorization": f"Bearer {key_a.sign('dana')}"}) as ok:
        assert (ok.status, await ok.json()) == (200, {"user": "dana"})
    async with client.get("/me", headers={"Authorization": f"Bearer {key_b.sign()}"}) as refused:
        assert refused.status == 401
        assert await refused.json() == {"error": "unknown signing key", "code": "unauthorized"}
        assert 'error="invalid_token"' in refused.headers["WWW-Authenticate"]

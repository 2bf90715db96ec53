"""Auth settings, token verification and minting, checked by value (no network)."""

from __future__ import annotations

import stat
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import jwt
import pytest
from jwt.utils import base64url_encode

from gateway.auth import AuthError, AuthSettings, Verifier, load_or_create_secret, mint_command, mint_token
from gateway.auth.settings import SECRET_FILE_NAME

SECRET = "s" * 32
OTHER_SECRET = "o" * 32


def _verifier(**changes: object) -> Verifier:
    return Verifier(AuthSettings(secret=SECRET, **changes))  # type: ignore[arg-type]


def _token(claims: dict[str, object], secret: str = SECRET, algorithm: str = "HS256") -> str:
    return jwt.encode(claims, secret, algorithm=algorithm)


def _refusal(verifier: Verifier, token: str) -> AuthError:
    with pytest.raises(AuthError) as caught:
        verifier.verify(token)
    assert caught.value.status == 401
    return caught.value


# -- settings -----------------------------------------------------------------------------


def test_defaults_when_secret_is_set(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    settings = AuthSettings.from_env({"ATELIER_AUTH_SECRET": SECRET}, data_dir)
    assert settings == AuthSettings(secret=SECRET)
    assert (settings.leeway, settings.token_ttl, settings.bridge_auth) == (30.0, 86400, False)
    assert settings.jwks_url is None
    assert settings.audience is None
    assert settings.issuer is None
    assert not data_dir.exists()  # an explicit secret never touches the disk


def test_all_variables_parsed(tmp_path: Path) -> None:
    env = {
        "ATELIER_AUTH_SECRET": SECRET,
        "ATELIER_AUTH_JWKS_URL": "https://idp.example/.well-known/jwks.json",
        "ATELIER_AUTH_JWKS_ALGORITHMS": "RS256, ES384,RS256",
        "ATELIER_AUTH_JWKS_LIFESPAN": "60",
        "ATELIER_AUTH_JWKS_COOLDOWN": "0",
        "ATELIER_AUTH_JWKS_TIMEOUT": "2.5",
        "ATELIER_AUTH_AUDIENCE": "atelier",
        "ATELIER_AUTH_ISSUER": "https://idp.example/",
        "ATELIER_AUTH_LEEWAY": "5",
        "ATELIER_AUTH_TOKEN_TTL": "600",
        "ATELIER_BRIDGE_AUTH": "Yes",
    }
    assert AuthSettings.from_env(env, tmp_path) == AuthSettings(
        secret=SECRET,
        jwks_url="https://idp.example/.well-known/jwks.json",
        jwks_algorithms=("RS256", "ES384"),
        jwks_lifespan=60.0,
        jwks_cooldown=0.0,
        jwks_timeout=2.5,
        audience="atelier",
        issuer="https://idp.example/",
        leeway=5.0,
        token_ttl=600,
        bridge_auth=True,
    )


@pytest.mark.parametrize(("raw", "expected"), [("1", True), ("true", True), ("no", False), ("0", False)])
def test_bridge_auth_flag(tmp_path: Path, raw: str, expected: bool) -> None:
    env = {"ATELIER_AUTH_SECRET": SECRET, "ATELIER_BRIDGE_AUTH": raw}
    assert AuthSettings.from_env(env, tmp_path).bridge_auth is expected


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("ATELIER_AUTH_SECRET", "too-short"),
        ("ATELIER_AUTH_JWKS_URL", "ftp://idp.example/jwks"),
        ("ATELIER_AUTH_JWKS_URL", "not a url"),
        ("ATELIER_AUTH_JWKS_ALGORITHMS", "HS256"),
        ("ATELIER_AUTH_JWKS_ALGORITHMS", "RS256,none"),
        ("ATELIER_AUTH_JWKS_LIFESPAN", "0"),
        ("ATELIER_AUTH_JWKS_COOLDOWN", "-1"),
        ("ATELIER_AUTH_JWKS_TIMEOUT", "soon"),
        ("ATELIER_AUTH_LEEWAY", "abc"),
        ("ATELIER_AUTH_LEEWAY", "-5"),
        ("ATELIER_AUTH_LEEWAY", "nan"),
        ("ATELIER_AUTH_TOKEN_TTL", "1.5"),
        ("ATELIER_AUTH_TOKEN_TTL", "0"),
        ("ATELIER_BRIDGE_AUTH", "maybe"),
    ],
)
def test_invalid_value_names_the_variable(tmp_path: Path, variable: str, value: str) -> None:
    env = {"ATELIER_AUTH_SECRET": SECRET, variable: value}
    with pytest.raises(ValueError, match=variable):
        AuthSettings.from_env(env, tmp_path)


def test_repr_hides_the_secret() -> None:
    assert SECRET not in repr(AuthSettings(secret=SECRET))


def test_secret_file_created_once_with_0600(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "dir" / SECRET_FILE_NAME
    first = load_or_create_secret(path)
    assert len(first.encode()) >= 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text().strip() == first
    assert load_or_create_secret(path) == first
    assert sorted(p.name for p in path.parent.iterdir()) == [SECRET_FILE_NAME]  # no temp left over


def test_concurrent_first_use_agrees_on_one_secret(tmp_path: Path) -> None:
    path = tmp_path / SECRET_FILE_NAME
    with ThreadPoolExecutor(max_workers=8) as pool:
        secrets = list(pool.map(lambda _: load_or_create_secret(path), range(16)))
    assert set(secrets) == {path.read_text().strip()}


def test_from_env_without_secret_uses_the_data_dir_file(tmp_path: Path) -> None:
    first = AuthSettings.from_env({}, tmp_path)
    assert (tmp_path / SECRET_FILE_NAME).read_text().strip() == first.secret
    assert AuthSettings.from_env({"ATELIER_AUTH_SECRET": ""}, tmp_path).secret == first.secret


def test_existing_secret_file_is_read_not_replaced(tmp_path: Path) -> None:
    path = tmp_path / SECRET_FILE_NAME
    path.write_text(OTHER_SECRET + "\n")
    path.chmod(0o600)
    assert load_or_create_secret(path) == OTHER_SECRET


def test_short_secret_file_is_refused_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / SECRET_FILE_NAME
    path.write_text("short\n")
    with pytest.raises(ValueError, match=str(path)):
        load_or_create_secret(path)


# -- verification ------------------------------------------------------------------------


def test_hs256_token_verifies() -> None:
    token = mint_token(SECRET, "user-1", 60, role="admin")
    principal = _verifier().verify(token)
    assert principal.user_id == "user-1"
    assert principal.claims["role"] == "admin"
    assert principal.claims["exp"] == principal.claims["iat"] + 60  # type: ignore[operator]


async def test_hs256_token_verifies_async() -> None:
    principal = await _verifier().verify_async(mint_token(SECRET, "user-2", 60))
    assert principal.user_id == "user-2"


def test_claims_are_read_only() -> None:
    principal = _verifier().verify(mint_token(SECRET, "user-1", 60))
    with pytest.raises(TypeError):
        principal.claims["sub"] = "someone-else"  # type: ignore[index]


def test_expired_token() -> None:
    token = _token({"sub": "u", "exp": int(time.time()) - 3600})
    assert _refusal(_verifier(), token).message == "token expired"


def test_wrong_secret() -> None:
    token = mint_token(OTHER_SECRET, "u", 60)
    assert _refusal(_verifier(), token).message == "invalid token signature"


def test_tampered_payload() -> None:
    header, _, signature = mint_token(SECRET, "u", 60).split(".")
    forged = mint_token(OTHER_SECRET, "admin", 60).split(".")[1]
    assert _refusal(_verifier(), f"{header}.{forged}.{signature}").message == "invalid token signature"


@pytest.mark.parametrize(
    ("claims", "message"),
    [
        ({"exp": 4102444800}, "token has no sub claim"),
        ({"sub": "u"}, "token has no exp claim"),
        ({"sub": "", "exp": 4102444800}, "token has an empty subject"),
        ({"sub": 42, "exp": 4102444800}, "invalid token subject"),
    ],
)
def test_required_claims(claims: dict[str, object], message: str) -> None:
    assert _refusal(_verifier(), _token(claims)).message == message


def test_alg_none_is_refused() -> None:
    token = jwt.encode({"sub": "u", "exp": 4102444800}, "", algorithm="none")
    assert _refusal(_verifier(), token).message == "token algorithm not accepted"


def test_other_hmac_algorithms_are_refused() -> None:
    token = _token({"sub": "u", "exp": 4102444800}, secret=SECRET * 2, algorithm="HS512")
    assert _refusal(_verifier(), token).message == "token algorithm not accepted"


def test_asymmetric_alg_refused_without_jwks() -> None:
    # The header alone decides: the signature is never looked at.
    header = base64url_encode(b'{"alg":"RS256","kid":"k","typ":"JWT"}').decode()
    body = base64url_encode(b'{"sub":"u","exp":4102444800}').decode()
    assert _refusal(_verifier(), f"{header}.{body}.c2ln").message == "token algorithm not accepted"


@pytest.mark.parametrize("token", ["", "abc", "a.b.c", "a.b", "...."])
def test_malformed_token(token: str) -> None:
    assert _refusal(_verifier(), token).message == "malformed token"


def test_audience_and_issuer() -> None:
    verifier = _verifier(audience="atelier", issuer="https://idp.example/")
    good = {"sub": "u", "exp": 4102444800, "aud": "atelier", "iss": "https://idp.example/"}
    assert verifier.verify(_token(good)).user_id == "u"
    assert verifier.verify(_token({**good, "aud": ["other", "atelier"]})).user_id == "u"
    assert _refusal(verifier, _token({**good, "aud": "other"})).message == "invalid token audience"
    assert _refusal(verifier, _token({**good, "iss": "https://evil/"})).message == "invalid token issuer"
    no_aud = {k: v for k, v in good.items() if k != "aud"}
    no_iss = {k: v for k, v in good.items() if k != "iss"}
    assert _refusal(verifier, _token(no_aud)).message == "token has no aud claim"
    assert _refusal(verifier, _token(no_iss)).message == "token has no iss claim"


def test_token_audience_refused_when_none_is_configured() -> None:
    token = _token({"sub": "u", "exp": 4102444800, "aud": "someone-else"})
    assert _refusal(_verifier(), token).message == "invalid token audience"


def test_leeway() -> None:
    now = int(time.time())
    just_expired = _token({"sub": "u", "exp": now - 10})
    not_yet = _token({"sub": "u", "exp": now + 600, "nbf": now + 10})
    lenient, strict = _verifier(leeway=30.0), _verifier(leeway=0.0)
    assert lenient.verify(just_expired).user_id == "u"
    assert lenient.verify(not_yet).user_id == "u"
    assert _refusal(strict, just_expired).message == "token expired"
    assert _refusal(strict, not_yet).message == "token not yet valid"


# -- minting -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("user", "ttl", "extra", "reason"),
    [
        ("", 60, {}, "user_id must not be empty"),
        ("u", 0, {}, "ttl must be greater than 0 seconds, got 0"),
        ("u", -5, {}, "ttl must be greater than 0 seconds, got -5"),
        ("u", 60, {"sub": "x"}, r"claims \['sub'\] are set from user_id and ttl"),
        ("u", 60, {"exp": 1}, r"claims \['exp'\] are set from user_id and ttl"),
    ],
)
def test_mint_token_refuses(user: str, ttl: int, extra: dict[str, object], reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        mint_token(SECRET, user, ttl, **extra)


def test_mint_command_matches_the_verifier() -> None:
    settings = AuthSettings(secret=SECRET, audience="atelier", issuer="atelier-cli", token_ttl=900)
    token = mint_command(settings, "user-7", None, ["role=admin", "level=3", 'tags=["a","b"]', "note=x=y"])
    principal = Verifier(settings).verify(token)
    claims = principal.claims
    assert principal.user_id == "user-7"
    assert (claims["aud"], claims["iss"]) == ("atelier", "atelier-cli")
    assert (claims["role"], claims["level"], claims["tags"], claims["note"]) == (
        "admin",
        3,
        ["a", "b"],
        "x=y",
    )
    assert claims["exp"] == claims["iat"] + 900  # type: ignore[operator]


def test_mint_command_ttl_override_and_bad_claim() -> None:
    settings = AuthSettings(secret=SECRET)
    claims = Verifier(settings).verify(mint_command(settings, "u", 30, [])).claims
    assert claims["exp"] == claims["iat"] + 30  # type: ignore[operator]
    with pytest.raises(ValueError, match="KEY=VALUE"):
        mint_command(settings, "u", None, ["role"])

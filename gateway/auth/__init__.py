"""Bearer-JWT authentication for the ``/api/design-engine/*`` and ``/api/v1/*`` routes."""

from __future__ import annotations

from .cli import mint_command as mint_command
from .cli import parse_claims as parse_claims
from .cli import signin_link as signin_link
from .middleware import PRINCIPAL as PRINCIPAL
from .middleware import VERIFIER as VERIFIER
from .middleware import Forbidden as Forbidden
from .middleware import auth_error_response as auth_error_response
from .middleware import bearer_token as bearer_token
from .middleware import bridge_auth_middleware as bridge_auth_middleware
from .middleware import ensure_owner as ensure_owner
from .middleware import forbidden_response as forbidden_response
from .middleware import require_user as require_user
from .settings import AuthSettings as AuthSettings
from .settings import load_or_create_secret as load_or_create_secret
from .tokens import AuthError as AuthError
from .tokens import Principal as Principal
from .tokens import Verifier as Verifier
from .tokens import mint_token as mint_token

__all__ = [
    "PRINCIPAL",
    "VERIFIER",
    "AuthError",
    "AuthSettings",
    "Forbidden",
    "Principal",
    "Verifier",
    "auth_error_response",
    "bearer_token",
    "ensure_owner",
    "forbidden_response",
    "load_or_create_secret",
    "mint_command",
    "mint_token",
    "parse_claims",
    "signin_link",
]

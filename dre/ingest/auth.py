"""Who is calling a Memfault-compatible endpoint.

Devices send `Memfault-Project-Key`; memfault-cli sends `Authorization:
Bearer <org token>` or Basic credentials (memfault-formats.md 3.1), where the
password may also be an API token.
"""

from __future__ import annotations

import base64
import binascii
import time

from django.contrib.auth import authenticate, get_user_model

from dre.accounts.authentication import principal_for
from dre.accounts.models import Project, Role
from dre.accounts.selectors import api_token_get, has_role, project_key_get

# The Memfault-Project-Key header as WSGI names it: read from META, since
# `request.headers` builds a mapping of every header first, a tenth of a
# heartbeat request's own CPU.
PROJECT_KEY_META = "HTTP_MEMFAULT_PROJECT_KEY"


# Every device request carries its project key, so this process remembers which
# project a key belongs to for KEY_CACHE_SECONDS instead of asking the database each
# time. The price: a revoked key is refused within that time, not at once. Unknown
# keys are never remembered, so a new key works immediately.
KEY_CACHE_SECONDS = 30
KEY_CACHE_SIZE = 10_000
_known_keys: dict[str, tuple[float, Project]] = {}


def project_from_key(request) -> Project | None:
    secret = (request.META.get(PROJECT_KEY_META) or "").strip()
    if not secret:
        return None
    now = time.monotonic()
    known = _known_keys.get(secret)
    if known is not None and known[0] > now:
        return known[1]
    key = project_key_get(secret)
    if key is None:
        _known_keys.pop(secret, None)
        return None
    if len(_known_keys) >= KEY_CACHE_SIZE:
        _known_keys.clear()
    _known_keys[secret] = (now + KEY_CACHE_SECONDS, key.project)
    return key.project


def project_key_cache_clear() -> None:
    _known_keys.clear()


def principal_from_request(request):
    """The user or org token behind Bearer or Basic credentials, or None."""
    scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
    scheme = scheme.lower()
    if scheme == "bearer":
        return _token_principal(credentials)
    if scheme == "basic":
        return _basic_principal(request, credentials)
    return None


def _token_principal(secret: str):
    token = api_token_get(secret)
    return principal_for(token) if token else None


def _basic_principal(request, credentials: str):
    try:
        decoded = base64.b64decode(credentials.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    if "\0" in decoded:  # no user has one, and PostgreSQL refuses it in a query
        return None
    login, _, password = decoded.partition(":")
    if token_principal := _token_principal(password):
        return token_principal
    return _password_user(request, login, password)


def _password_user(request, login: str, password: str):
    """The user with this username (or email) and password, or None.

    One `authenticate` call with the request, so that django-axes counts each
    guess once and refuses a locked-out username before checking its password.
    """
    username = login
    if "@" in login and not get_user_model().objects.filter(username=login).exists():
        match = get_user_model().objects.filter(email__iexact=login).first()
        username = match.get_username() if match is not None else login
    return authenticate(request, username=username, password=password)


def may_upload(principal, project: Project) -> bool:
    return principal is not None and has_role(principal, project, Role.MEMBER)

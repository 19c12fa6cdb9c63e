"""Who is calling a Memfault-compatible endpoint.

Devices send `Memfault-Project-Key`; memfault-cli sends `Authorization:
Bearer <org token>` or Basic credentials (memfault-formats.md 3.1), where the
password may also be an API token.
"""

from __future__ import annotations

import base64
import binascii

from django.contrib.auth import authenticate, get_user_model

from dre.accounts.authentication import principal_for
from dre.accounts.models import Project, Role
from dre.accounts.selectors import api_token_get, has_role, project_key_get

PROJECT_KEY_HEADER = "Memfault-Project-Key"


def project_from_key(request) -> Project | None:
    key = project_key_get(request.headers.get(PROJECT_KEY_HEADER))
    return key.project if key else None


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

"""Bearer-token authentication for the REST API and memfault-cli's calls."""

from __future__ import annotations

from rest_framework import authentication, exceptions

from dre.accounts.selectors import api_token_get


class OrgTokenPrincipal:
    """Stands in for request.user when an org token (no user) authenticates."""

    is_authenticated = True
    is_active = True
    is_superuser = False
    is_staff = False
    is_anonymous = False
    pk = None

    def __init__(self, token):
        self.api_token = token

    def __str__(self):
        return f"org token {self.api_token.prefix}…"


def principal_for(token):
    if token.user is not None:
        token.user.api_token = token
        return token.user
    return OrgTokenPrincipal(token)


class ApiTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode(errors="replace")
        scheme, _, secret = header.partition(" ")
        if scheme.lower() != self.keyword.lower() or not secret:
            return None
        token = api_token_get(secret)
        if token is None:
            raise exceptions.AuthenticationFailed("Invalid or revoked API token.")
        return principal_for(token), token

    def authenticate_header(self, request):
        return self.keyword

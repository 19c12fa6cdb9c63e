"""Device-facing and CI-facing secrets.

Both kinds are long random strings, so a plain SHA-256 is enough to store
them (there is nothing to brute-force); what the database holds cannot be
replayed. The first characters are kept in clear as a prefix so an admin can
tell keys apart when listing or revoking them.
"""

import hashlib
import secrets

PREFIX_LENGTH = 8
ORG_TOKEN_PREFIX = "oat_"  # memfault-cli sends Bearer for passwords starting with oat_
USER_TOKEN_PREFIX = "uat_"


def new_project_key() -> str:
    # Memfault project keys are 32 characters; the SDK puts them in a
    # fixed-size buffer (memfault-formats.md 2.1), so keep the same length.
    return secrets.token_hex(16)


def new_api_token(prefix: str) -> str:
    return prefix + secrets.token_urlsafe(30)


def new_upload_secret() -> str:
    return secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def visible_prefix(secret: str) -> str:
    return secret[:PREFIX_LENGTH]

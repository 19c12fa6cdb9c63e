"""The API's answers to requests it cannot take, and its security scheme in the schema.

DRF answers its own exceptions with JSON; Django's request checks (a body over
DATA_UPLOAD_MAX_MEMORY_SIZE, a client that hung up) and bad query values would
otherwise surface as a generic HTML 400 or a 500. Anything else still reaches
Django's handler, which logs it as the server bug it is.
"""

from __future__ import annotations

from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import UnreadablePostError
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions, status
from rest_framework.views import exception_handler as drf_exception_handler


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "too_large"


class LengthRequired(exceptions.APIException):
    status_code = status.HTTP_411_LENGTH_REQUIRED
    default_detail = "Content-Length is required."
    default_code = "length_required"


def exception_handler(exc, context):
    if isinstance(exc, RequestDataTooBig):
        exc = PayloadTooLarge(str(exc))
    elif isinstance(exc, SuspiciousOperation | UnreadablePostError):
        exc = exceptions.ParseError(str(exc))
    elif isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(exc.messages)
    return drf_exception_handler(exc, context)


class ApiTokenScheme(OpenApiAuthenticationExtension):
    """Documents `Authorization: Bearer <token>` (dre.accounts.authentication)."""

    target_class = "dre.accounts.authentication.ApiTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An org token (oat_…) or a user's token (uat_…), "
            "valid in the organization it was created for.",
        }

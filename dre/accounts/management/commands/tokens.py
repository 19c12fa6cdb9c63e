from django.contrib.auth import get_user_model
from django.core.management.base import CommandError

from dre.accounts.management.commands._base import (
    SecretCommand,
    describe_secret,
    organization_named,
)
from dre.accounts.models import ApiToken
from dre.accounts.services import api_token_create


class Command(SecretCommand):
    help = "Create, list and revoke API tokens: org tokens for CI, or a user's token."
    kind = "token"
    subcommands = {
        "create": "create a token and print it once",
        "list": "list an organization's tokens",
        "revoke": "revoke a token by its prefix",
    }

    def add_subcommand_arguments(self, name, parser):
        parser.add_argument("org")
        if name == "create":
            parser.add_argument("--name", default="")
            parser.add_argument("--user", help="username; without it, an org token is made")
        if name == "revoke":
            parser.add_argument("prefix")

    def handle_create(self, org, name, user, **_):
        owner = None
        if user:
            owner = get_user_model().objects.filter(username=user).first()
            if owner is None:
                raise CommandError(f"no user '{user}'")
        _, secret = api_token_create(organization=organization_named(org), user=owner, name=name)
        self.secret_print(secret)

    def handle_list(self, org, **_):
        tokens = ApiToken.objects.filter(organization=organization_named(org))
        for token in tokens.select_related("user").order_by("created"):
            owner = f"user {token.user.username}" if token.user else "org token"
            self.stdout.write(f"{describe_secret(token)}  ({owner})")

    def handle_revoke(self, org, prefix, **_):
        tokens = ApiToken.objects.active().filter(
            organization=organization_named(org), prefix=prefix
        )
        self.secrets_revoke(tokens, prefix)

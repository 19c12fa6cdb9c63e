"""Shared plumbing for the administration commands: subcommands and lookups."""

from django.core.management.base import BaseCommand, CommandError

from dre.accounts.models import Organization, Project
from dre.accounts.services import secret_revoke


class SubcommandCommand(BaseCommand):
    """A command whose first argument picks a method named `handle_<subcommand>`."""

    subcommands: dict[str, str] = {}

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="subcommand", required=True)
        for name, help_text in self.subcommands.items():
            self.add_subcommand_arguments(name, sub.add_parser(name, help=help_text))

    def add_subcommand_arguments(self, name, parser):
        raise NotImplementedError

    def handle(self, *args, subcommand, **options):
        getattr(self, f"handle_{subcommand}")(**options)


class SecretCommand(SubcommandCommand):
    """Creates, lists and revokes one kind of secret, named by `kind` ("key", "token")."""

    kind = ""

    def secret_print(self, secret: str) -> None:
        """The secret itself, this once: dre keeps only its digest."""
        self.stdout.write(secret)
        self.stderr.write(f"Store this {self.kind} now: dre keeps only its digest.")

    def secrets_revoke(self, found, prefix: str) -> None:
        """Revoke the active secrets `found` by `prefix`, or say there are none."""
        for secret in found:
            secret_revoke(secret)
            self.stdout.write(f"revoked {secret.prefix}…")
        if not found:
            self.stderr.write(f"no active {self.kind} starting with {prefix}")


def organization_named(slug: str) -> Organization:
    try:
        return Organization.objects.get(slug=slug)
    except Organization.DoesNotExist:
        raise CommandError(f"no organization '{slug}'") from None


def project_named(reference: str) -> Project:
    """Find a project by 'org/project'."""
    org_slug, _, project_slug = reference.partition("/")
    if not project_slug:
        raise CommandError(f"'{reference}' is not of the form org/project")
    try:
        return Project.objects.select_related("organization").get(
            organization__slug=org_slug, slug=project_slug
        )
    except Project.DoesNotExist:
        raise CommandError(f"no project '{reference}'") from None


def describe_secret(secret_object) -> str:
    state = "revoked" if secret_object.revoked_at else "active"
    used = secret_object.last_used.isoformat() if secret_object.last_used else "never"
    return f"{secret_object.prefix}…  {state:7}  last used {used}  {secret_object.name}"

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError

from dre.accounts.management.commands._base import SubcommandCommand, organization_named
from dre.accounts.models import Membership, Role
from dre.accounts.services import membership_set


class Command(SubcommandCommand):
    help = "Give users a role in an organization, or list its members."
    subcommands = {"add": "add or change a member", "list": "list members"}

    def add_subcommand_arguments(self, name, parser):
        parser.add_argument("org")
        if name == "add":
            parser.add_argument("username")
            parser.add_argument("--role", choices=Role.values, default=Role.MEMBER)

    def handle_add(self, org, username, role, **_):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"no user '{username}' (create one with createsuperuser)")
        membership_set(user=user, organization=organization_named(org), role=Role(role))
        self.stdout.write(f"{username} is {role} of {org}")

    def handle_list(self, org, **_):
        members = Membership.objects.filter(organization=organization_named(org))
        for membership in members.select_related("user").order_by("user__username"):
            self.stdout.write(f"{membership.user.username}  {membership.role}")

from dre.accounts.management.commands._base import SubcommandCommand, organization_named
from dre.accounts.models import Organization
from dre.accounts.services import organization_create


class Command(SubcommandCommand):
    help = "Create and list organizations."
    subcommands = {"create": "create an organization", "list": "list organizations"}

    def add_subcommand_arguments(self, name, parser):
        if name == "create":
            parser.add_argument("slug")
            parser.add_argument("--name", default="")

    def handle_create(self, slug, name, **_):
        if Organization.objects.filter(slug=slug).exists():
            organization = organization_named(slug)
            self.stdout.write(f"organization {organization.slug} already exists")
            return
        organization = organization_create(slug=slug, name=name)
        self.stdout.write(f"created organization {organization.slug}")

    def handle_list(self, **_):
        for organization in Organization.objects.order_by("slug"):
            self.stdout.write(f"{organization.slug}  {organization.name}")

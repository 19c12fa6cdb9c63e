from dre.accounts.management.commands._base import SubcommandCommand, organization_named
from dre.accounts.models import Project
from dre.accounts.services import project_create


class Command(SubcommandCommand):
    help = "Create and list projects (named org/project)."
    subcommands = {"create": "create a project", "list": "list projects"}

    def add_subcommand_arguments(self, name, parser):
        if name == "create":
            parser.add_argument("org")
            parser.add_argument("slug")
            parser.add_argument("--name", default="")

    def handle_create(self, org, slug, name, **_):
        organization = organization_named(org)
        project = Project.objects.filter(organization=organization, slug=slug).first()
        if project:
            self.stdout.write(f"project {project} already exists")
            return
        project = project_create(organization=organization, slug=slug, name=name)
        self.stdout.write(f"created project {project}")

    def handle_list(self, **_):
        for project in Project.objects.select_related("organization").order_by(
            "organization__slug", "slug"
        ):
            self.stdout.write(f"{project}  {project.name}")

from dre.accounts.management.commands._base import (
    SecretCommand,
    describe_secret,
    project_named,
)
from dre.accounts.models import ProjectKey
from dre.accounts.services import project_key_create


class Command(SecretCommand):
    help = "Create, list and revoke project keys (the Memfault-Project-Key devices send)."
    kind = "key"
    subcommands = {
        "create": "create a key and print it once",
        "list": "list a project's keys",
        "revoke": "revoke a key by its prefix",
    }

    def add_subcommand_arguments(self, name, parser):
        parser.add_argument("project", help="org/project")
        if name == "create":
            parser.add_argument("--name", default="")
        if name == "revoke":
            parser.add_argument("prefix")

    def handle_create(self, project, name, **_):
        _, secret = project_key_create(project=project_named(project), name=name)
        self.secret_print(secret)

    def handle_list(self, project, **_):
        for key in ProjectKey.objects.filter(project=project_named(project)).order_by("created"):
            self.stdout.write(describe_secret(key))

    def handle_revoke(self, project, prefix, **_):
        keys = ProjectKey.objects.active().filter(project=project_named(project), prefix=prefix)
        self.secrets_revoke(keys, prefix)

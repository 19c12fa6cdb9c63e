from django.core.management.base import BaseCommand

from dre.demo import demo_load


class Command(BaseCommand):
    help = "Create the demo organization and project and load the test firmware's crashes."

    def add_arguments(self, parser):
        parser.add_argument("--url", default="http://127.0.0.1:8000", help="where dre runs")

    def handle(self, *args, url, **options):
        info = demo_load()
        project = info.project
        issues = f"{url}/{project.organization.slug}/{project.slug}/issues/"
        loaded = (
            f"{info.coredumps} coredumps sent" if info.coredumps else "demo data already loaded"
        )
        self.stdout.write(
            f"""
dre demo ({loaded})
  open      {issues}
  log in    user {info.username!r}, password {info.password!r}
  devices   Memfault-Project-Key: {info.project_key}
  CI        MEMFAULT_URL={url} memfault --org-token {info.org_token} \\
              --org {project.organization.slug} --project {project.slug} \\
              upload-mcu-symbols firmware.elf
"""
        )

"""Process failed coredumps or symbol files again, after the fix is deployed:

manage.py reprocess coredumps 12 13
manage.py reprocess coredumps --failed acme/sensors
manage.py reprocess symbol-files 4
"""

from django.core.management.base import CommandError

from dre.accounts.management.commands._base import SubcommandCommand, project_named
from dre.crashes.models import Coredump
from dre.crashes.services import coredump_reprocess
from dre.leases import NotFailed
from dre.symbols.models import SymbolFile
from dre.symbols.services import symbol_file_reprocess

KINDS = {
    "coredumps": (Coredump, coredump_reprocess),
    "symbol_files": (SymbolFile, symbol_file_reprocess),
}


class Command(SubcommandCommand):
    help = "Process failed coredumps or symbol files again."
    subcommands = {
        "coredumps": "reprocess failed coredumps",
        "symbol-files": "index failed symbol files again",
    }

    def add_subcommand_arguments(self, name, parser):
        parser.add_argument("ids", nargs="*", type=int, help="ids to reprocess")
        parser.add_argument("--failed", metavar="ORG/PROJECT", help="every failed one of a project")

    def handle(self, *args, subcommand, **options):
        self.reprocess(subcommand.replace("-", "_"), options["ids"], options["failed"])

    def reprocess(self, kind: str, ids: list[int], failed_in: str | None) -> int:
        model, reprocess = KINDS[kind]
        rows = list(self.selected(model, ids, failed_in))
        if not rows:
            raise CommandError("nothing to reprocess: give ids or --failed ORG/PROJECT")
        done = 0
        for row in rows:
            try:
                reprocess(row)
            except NotFailed as exc:
                self.stderr.write(f"skipped: {exc}")
                continue
            done += 1
            self.stdout.write(f"queued {model._meta.verbose_name} {row.pk}")
        return done

    def selected(self, model, ids: list[int], failed_in: str | None):
        if failed_in:
            return model.objects.filter(project=project_named(failed_in), state="failed")
        found = model.objects.in_bulk(ids)
        missing = sorted(set(ids) - set(found))
        if missing:
            raise CommandError(f"no {model._meta.verbose_name} with id {missing[0]}")
        return found.values()

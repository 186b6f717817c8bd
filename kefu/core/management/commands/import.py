"""`kefu import KIND PATH [--shop SLUG] [--atomic]`: load a .csv or .xlsx file."""

from __future__ import annotations

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from kefu.core import tabular


class Command(BaseCommand):
    help = "Import a .csv or .xlsx file (see docs/IMPORT.md for each kind's columns)."

    def create_parser(self, prog_name, subcommand, **kwargs):
        kinds = "; ".join(f"{kind}: {item.help}" for kind, item in tabular.importers().items())
        kwargs.setdefault("epilog", f"Kinds: {kinds}")
        return super().create_parser(prog_name, subcommand, **kwargs)

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=list(tabular.importers()), help="what the file holds")
        parser.add_argument("path", help="a .csv (UTF-8) or .xlsx file")
        parser.add_argument("--shop", help="the shop's slug (optional when there is one shop)")
        parser.add_argument(
            "--atomic", action="store_true", help="store nothing if any row is rejected"
        )
        parser.add_argument(
            "--progress-every", type=int, default=100, help="print progress every N rows"
        )

    def handle(self, *args, **options):
        path = Path(options["path"])
        if not path.is_file():
            raise CommandError(_("No such file: %(path)s") % {"path": path})
        try:
            shop = tabular.shop_for(options["shop"])
        except tabular.TableError as error:
            raise CommandError(str(error)) from None

        def progress(done: int, total: int) -> None:
            sys.stderr.write(
                _("%(kind)s: %(done)d/%(total)d rows")
                % {"kind": options["kind"], "done": done, "total": total}
                + "\n"
            )

        try:
            report = tabular.run_import(
                options["kind"],
                path.read_bytes(),
                path.name,
                shop=shop,
                atomic=options["atomic"],
                progress=progress,
                progress_every=max(1, options["progress_every"]),
            )
        except tabular.TableError as error:
            raise CommandError(str(error)) from None
        for row_error in report.errors:
            self.stderr.write(str(row_error))
        self.stdout.write(report.summary())
        if not report.committed:
            self.stdout.write(_("Nothing was stored: --atomic and some rows were rejected."))
        if report.errors:
            sys.exit(1)

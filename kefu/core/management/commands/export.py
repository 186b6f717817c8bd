"""`kefu export KIND PATH [--shop SLUG]`: write a .csv or .xlsx file."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import ngettext

from kefu.core import tabular


class Command(BaseCommand):
    help = "Export to a .csv or .xlsx file that `kefu import` reads back unchanged."

    def create_parser(self, prog_name, subcommand, **kwargs):
        kinds = "; ".join(f"{kind}: {item.help}" for kind, item in tabular.exporters().items())
        kwargs.setdefault("epilog", f"Kinds: {kinds}")
        return super().create_parser(prog_name, subcommand, **kwargs)

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=list(tabular.exporters()), help="what to export")
        parser.add_argument("path", help="the file to write; .csv or .xlsx")
        parser.add_argument("--shop", help="the shop's slug (optional when there is one shop)")

    def handle(self, *args, **options):
        path = Path(options["path"])
        try:
            shop = tabular.shop_for(options["shop"])
        except tabular.TableError as error:
            raise CommandError(str(error)) from None
        try:
            fmt = tabular.format_of(path.name)
            temporary = path.with_name(path.name + ".part")
            try:
                with temporary.open("wb") as stream:
                    count = tabular.export_table(options["kind"], stream, fmt, shop=shop)
                temporary.replace(path)
            finally:
                temporary.unlink(missing_ok=True)
        except tabular.TableError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(
            ngettext(
                "%(count)d row written to %(path)s", "%(count)d rows written to %(path)s", count
            )
            % {"count": count, "path": path}
        )

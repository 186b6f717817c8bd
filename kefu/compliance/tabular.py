"""A shop's compliance rules as a spreadsheet (`kefu import rules PATH`,
`kefu export rules`). List cells (phrases, expressions, exceptions, examples)
hold one item per line. Rows go through `actions.save_rule`, so an import is
validated (RE2 compiles, examples behave) exactly like an edit in the admin."""

from __future__ import annotations

from collections.abc import Iterable

from django.utils.translation import gettext as _

from kefu.core import tabular
from kefu.core.tabular import ImportContext, Outcome, Row, RowRejected

from . import actions
from .guard.engine import RuleSpec
from .models import ComplianceRule

COLUMNS = actions.RULE_FIELDS
_BOOLEANS = {"1": True, "true": True, "yes": True, "是": True, "0": False, "false": False}
_BOOLEANS |= {"no": False, "否": False, "": False}


def _value(column: str, raw: str):
    if column in ("enabled", "platform_rule"):
        key = raw.strip().lower()
        if key not in _BOOLEANS:
            raise RowRejected(column, _("Use true or false: “%(v)s”.") % {"v": raw})
        return _BOOLEANS[key] if key or column != "enabled" else True
    if column == "penalty_points":
        raw = raw.strip() or "0"
        if not raw.isdigit() or int(raw) > 48:
            raise RowRejected(column, _("Points must be a whole number from 0 to 48."))
        return int(raw)
    if column in RuleSpec.LIST_FIELDS:
        return "\n".join(line.strip() for line in raw.splitlines() if line.strip())
    return raw.strip()


class RuleImporter(tabular.Importer):
    kind = "rules"
    help = "Compliance rules: phrases, expressions, detectors, severity, points, examples"
    columns = COLUMNS
    required = ("code",)

    def import_row(self, row: Row, context: ImportContext) -> Outcome:
        code = row.get("code").strip()
        context.claim(("rule", code), row.line, "code")
        fields = {c: _value(c, row.values[c]) for c in COLUMNS if c in row.values}
        existing = ComplianceRule.objects.filter(shop=context.shop, code=code).first()
        try:
            _rule, changed = actions.save_rule(
                context.user, context.shop, fields, rule_id=existing.id if existing else None
            )
        except actions.RuleInvalid as error:
            raise RowRejected("", "; ".join(error.problems)) from None
        if existing is None:
            return "created"
        return "updated" if changed else "unchanged"


class RuleExporter(tabular.Exporter):
    kind = "rules"
    help = RuleImporter.help
    columns = COLUMNS

    def rows(self, shop, ids: Iterable[int] | None = None):
        actions.ensure_settings(shop)
        rules = ComplianceRule.objects.filter(shop=shop).order_by("id")
        if ids is not None:
            rules = rules.filter(id__in=list(ids))
        for rule in rules.iterator():
            row = {}
            for column in COLUMNS:
                value = getattr(rule, column)
                if isinstance(value, bool):
                    value = "true" if value else "false"
                row[column] = str(value)
            yield row


tabular.register(RuleImporter(), RuleExporter())

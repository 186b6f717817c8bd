"""FAQs and team quick replies as spreadsheets (`kefu import faqs …`); the
columns are documented in docs/IMPORT.md. Rows are saved through the actions,
so an import validates and versions exactly like an edit in the admin."""

from __future__ import annotations

import re
from collections.abc import Iterable

from django.utils.translation import gettext as _

from kefu.bot.nlp.text import language_of
from kefu.core import tabular
from kefu.core.tabular import ImportContext, Outcome, Row, RowRejected

from . import actions
from .models import Faq, QuickReply

LIST_SEPARATOR = " | "
_SPLIT = re.compile(r"\s*\|\s*|\s*\n\s*")

FAQ_COLUMNS = ("id", *actions.FAQ_FIELDS)
REPLY_COLUMNS = ("category", "title", "shortcut", "text", "language", "position")


def split_list(value: str) -> list[str]:
    return [item for item in _SPLIT.split(value.strip()) if item]


def _date(value) -> str:
    return value.isoformat() if value else ""


class FaqImporter(tabular.Importer):
    kind = "faqs"
    help = "FAQs: question, phrasings, answer, validity, status"
    columns = FAQ_COLUMNS
    required = ("question",)

    def import_row(self, row: Row, context: ImportContext) -> Outcome:
        fields: dict[str, object] = {}
        for column in FAQ_COLUMNS[1:]:
            if column in row.values:
                value = row.values[column]
                fields[column] = (
                    split_list(value) if column in ("paraphrases", "products") else value
                )
        question = row.get("question").strip()
        existing = self._existing(row, context, question, fields)
        if "language" in fields:
            context.claim(("question", fields["language"], question), row.line, "question")
        if existing is not None:
            context.claim(("faq", existing.id), row.line, "id")
        version = existing.version if existing else None
        faq = actions.save_faq(
            context.user,
            context.shop,
            fields,
            faq_id=existing.id if existing else None,
            note=_("Imported"),
        )
        if version is None:
            return "created"
        return "unchanged" if faq.version == version else "updated"

    def _existing(self, row: Row, context: ImportContext, question: str, fields) -> Faq | None:
        raw_id = row.get("id").strip()
        if raw_id:
            if not raw_id.isdigit():
                raise RowRejected("id", _("The id must be a number: “%(id)s”.") % {"id": raw_id})
            faq = Faq.objects.filter(shop=context.shop, id=int(raw_id)).first()
            if faq is None:
                raise RowRejected("id", _("This shop has no FAQ #%(id)s.") % {"id": raw_id})
            return faq
        if not fields.get("language"):
            # New rows without a language take the question's.
            fields["language"] = language_of(question)
        return Faq.objects.filter(
            shop=context.shop, language=fields["language"], question=question
        ).first()


class FaqExporter(tabular.Exporter):
    kind = "faqs"
    help = FaqImporter.help
    columns = FAQ_COLUMNS

    def rows(self, shop, ids: Iterable[int] | None = None):
        faqs = Faq.objects.filter(shop=shop).order_by("id")
        if ids is not None:
            faqs = faqs.filter(id__in=list(ids))
        for faq in faqs.iterator():
            yield {
                "id": str(faq.id),
                "language": faq.language,
                "category": faq.category,
                "intent": faq.intent,
                "question": faq.question,
                "paraphrases": LIST_SEPARATOR.join(faq.paraphrases),
                "answer": faq.answer,
                "products": LIST_SEPARATOR.join(faq.products),
                "valid_from": _date(faq.valid_from),
                "valid_to": _date(faq.valid_to),
                "status": faq.status,
                "review_due": _date(faq.review_due),
            }


class QuickReplyImporter(tabular.Importer):
    kind = "quick-replies"
    help = "Team quick replies: category, title, shortcut, text"
    columns = REPLY_COLUMNS
    required = ("shortcut",)

    def import_row(self, row: Row, context: ImportContext) -> Outcome:
        fields = {column: row.values[column] for column in REPLY_COLUMNS if column in row.values}
        shortcut = row.get("shortcut").strip()
        context.claim(("reply", shortcut), row.line, "shortcut")
        existing = QuickReply.objects.filter(
            shop=context.shop, owner__isnull=True, shortcut=shortcut
        ).first()
        _reply, changed = actions.save_quick_reply(
            context.user, context.shop, fields, reply_id=existing.id if existing else None
        )
        if existing is None:
            return "created"
        return "updated" if changed else "unchanged"


class QuickReplyExporter(tabular.Exporter):
    kind = "quick-replies"
    help = QuickReplyImporter.help
    columns = REPLY_COLUMNS

    def rows(self, shop, ids: Iterable[int] | None = None):
        replies = QuickReply.objects.filter(shop=shop, owner__isnull=True).order_by(
            "category", "position", "id"
        )
        if ids is not None:
            replies = replies.filter(id__in=list(ids))
        for reply in replies.iterator():
            yield {
                "category": reply.category,
                "title": reply.title,
                "shortcut": reply.shortcut,
                "text": reply.text,
                "language": reply.language,
                "position": str(reply.position),
            }


tabular.register(FaqImporter(), FaqExporter(), QuickReplyImporter(), QuickReplyExporter())

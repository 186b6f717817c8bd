"""Every change to the knowledge base. Each action validates first (an
`InvalidField` names the field and stores nothing), checks who may do it, and
bumps the shop's `KnowledgeRevision` in the same transaction when FAQs or
synonyms change, so every process rebuilds its search index."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from kefu.accounts.models import Shop
from kefu.bot.nlp.text import language_of, normalize
from kefu.core.clock import Clock, system_clock
from kefu.core.errors import ActionError, NotFound, PermissionDenied

from . import queries
from .models import (
    Case,
    CaseKind,
    Faq,
    FaqStatus,
    FaqVersion,
    KnowledgeRevision,
    Language,
    Manual,
    QuickReply,
    ReplyCategory,
    Script,
    ScriptStage,
    Synonym,
)

FAQ_FIELDS = (
    "language",
    "category",
    "intent",
    "question",
    "paraphrases",
    "answer",
    "products",
    "valid_from",
    "valid_to",
    "status",
    "review_due",
)
MAX_ANSWER_CHARS = 5000
MAX_REPLY_CHARS = 2000
MAX_BODY_CHARS = 100_000
_INTENT = re.compile(r"^[A-Za-z0-9_.\-]*$")
_SHORTCUT = re.compile(r"^/\S{1,31}$")
_KIND = re.compile(r"^[a-z0-9][a-z0-9_\-]*$")


class InvalidField(ActionError):
    """A refused value; `field` names it (the import report shows it as the column)."""

    code = "invalid"

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


# --- permission and revision helpers ----------------------------------------------


def _require_editor(user, shop_id: int) -> None:
    """`user` None is the system (CLI, demo loader, bot); otherwise a member of
    the shop who edits knowledge. Outsiders get 404, never a hint."""
    if user is None:
        return
    if shop_id not in queries.member_shop_ids(user):
        raise NotFound(_("Shop not found."))
    if shop_id not in queries.editable_shop_ids(user):
        raise PermissionDenied(
            _("Only supervisors, trainers and administrators may change the shop's knowledge.")
        )


def _require_member(user, shop_id: int) -> None:
    if user is not None and shop_id not in queries.member_shop_ids(user):
        raise NotFound(_("Shop not found."))


def bump_revision(shop_id: int) -> None:
    KnowledgeRevision.objects.get_or_create(shop_id=shop_id)
    KnowledgeRevision.objects.filter(shop_id=shop_id).update(revision=F("revision") + 1)


# --- value cleaning ------------------------------------------------------------------


def _text(field: str, value: object, *, required: bool, max_chars: int, label: str) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise InvalidField(field, _("%(field)s must be text.") % {"field": label})
    value = value.replace("\x00", "").replace("\r\n", "\n").strip()
    if required and not value:
        raise InvalidField(field, _("%(field)s is empty.") % {"field": label})
    if len(value) > max_chars:
        raise InvalidField(
            field,
            _("%(field)s is too long: %(length)d characters, at most %(limit)d.")
            % {"field": label, "length": len(value), "limit": max_chars},
        )
    return value


def _choice(field: str, value: object, choices: Iterable[str], label: str) -> str:
    value = value.strip() if isinstance(value, str) else value
    if value not in list(choices):
        raise InvalidField(
            field,
            _("%(field)s: unknown value “%(value)s”. Use one of: %(choices)s.")
            % {"field": label, "value": value, "choices": ", ".join(choices)},
        )
    return str(value)


def _date(field: str, value: object, label: str) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise InvalidField(
        field,
        _("%(field)s is not a date (YYYY-MM-DD): “%(value)s”.") % {"field": label, "value": value},
    )


def _phrases(field: str, value: object, label: str, max_chars: int = 300) -> list[str]:
    """A list of distinct non-empty strings without “|” (the spreadsheet separator)."""
    if value in (None, ""):
        return []
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise InvalidField(field, _("%(field)s must be a list of texts.") % {"field": label})
    out: list[str] = []
    for item in value:
        item = item.replace("\x00", "").strip()
        if not item or item in out:
            continue
        if "|" in item:
            raise InvalidField(
                field,
                _("%(field)s may not contain “|”: “%(value)s”.") % {"field": label, "value": item},
            )
        if len(item) > max_chars:
            raise InvalidField(
                field,
                _("%(field)s: “%(value)s…” is longer than %(limit)d characters.")
                % {"field": label, "value": item[:20], "limit": max_chars},
            )
        out.append(item)
    return out


def _integer(field: str, value: object, label: str) -> int:
    if isinstance(value, bool):
        raise InvalidField(field, _("%(field)s must be a whole number.") % {"field": label})
    try:
        return int(str(value).strip() or "0")
    except ValueError:
        raise InvalidField(
            field, _("%(field)s must be a whole number.") % {"field": label}
        ) from None


# --- FAQs ----------------------------------------------------------------------------


def faq_snapshot(faq: Faq) -> dict[str, Any]:
    """The editable fields as JSON; a version row stores this."""
    data: dict[str, Any] = {}
    for name in FAQ_FIELDS:
        value = getattr(faq, name)
        data[name] = value.isoformat() if isinstance(value, dt.date) else value
    return data


def clean_faq_fields(data: Mapping[str, object], current: Mapping[str, object]) -> dict[str, Any]:
    """The FAQ's editable fields after applying `data` on top of `current`."""
    unknown = sorted(set(data) - set(FAQ_FIELDS))
    if unknown:
        raise InvalidField(unknown[0], _("Unknown field: %(field)s.") % {"field": unknown[0]})
    merged = {**current, **data}
    cleaned: dict[str, Any] = {
        "language": _choice("language", merged.get("language"), Language.values, _("Language")),
        "category": _text(
            "category", merged.get("category"), required=True, max_chars=60, label=_("Category")
        ),
        "intent": _text(
            "intent", merged.get("intent"), required=False, max_chars=60, label=_("Intent")
        ),
        "question": _text(
            "question", merged.get("question"), required=True, max_chars=300, label=_("Question")
        ),
        "answer": _text(
            "answer",
            merged.get("answer"),
            required=False,
            max_chars=MAX_ANSWER_CHARS,
            label=_("Answer"),
        ),
        "valid_from": _date("valid_from", merged.get("valid_from"), _("Valid from")),
        "valid_to": _date("valid_to", merged.get("valid_to"), _("Valid to")),
        "status": _choice("status", merged.get("status"), FaqStatus.values, _("Status")),
        "review_due": _date("review_due", merged.get("review_due"), _("Review due")),
    }
    if not _INTENT.match(cleaned["intent"]):
        raise InvalidField(
            "intent", _("The intent is a code of letters, digits, “_”, “-” and “.”.")
        )
    paraphrases = _phrases("paraphrases", merged.get("paraphrases"), _("Other phrasings"))
    cleaned["paraphrases"] = [p for p in paraphrases if p != cleaned["question"]]
    cleaned["products"] = _phrases("products", merged.get("products"), _("Products"), 120)
    if (
        cleaned["valid_from"]
        and cleaned["valid_to"]
        and cleaned["valid_to"] < cleaned["valid_from"]
    ):
        raise InvalidField("valid_to", _("The FAQ stops being valid before it starts."))
    if cleaned["status"] == FaqStatus.PUBLISHED and not cleaned["answer"]:
        raise InvalidField("answer", _("An FAQ needs an answer before it is published."))
    return cleaned


def _faq_for_update(user, faq_id: int, shop_id: int | None = None) -> Faq:
    faq = Faq.objects.select_for_update().filter(id=faq_id).first()
    if faq is None or (shop_id is not None and faq.shop_id != shop_id):
        raise NotFound(_("FAQ not found."))
    _require_editor(user, faq.shop_id)
    return faq


def save_faq(
    user,
    shop: Shop,
    fields: Mapping[str, object],
    *,
    faq_id: int | None = None,
    note: str = "",
    clock: Clock = system_clock,
) -> Faq:
    """Create an FAQ (a draft unless `fields` says otherwise) or change one.
    A save that changes nothing writes nothing: no version, no revision bump."""
    with transaction.atomic():
        if faq_id is None:
            _require_editor(user, shop.id)
            faq = Faq(shop=shop, created_by=user)
            current: dict[str, object] = {"language": Language.ZH_HANS, "status": FaqStatus.DRAFT}
        else:
            faq = _faq_for_update(user, faq_id, shop.id)
            current = faq_snapshot(faq)
        cleaned = clean_faq_fields(fields, current)
        if faq.pk is not None and faq_snapshot(Faq(**cleaned)) == current:
            return faq
        duplicate = (
            Faq.objects.filter(
                shop=shop, language=cleaned["language"], question=cleaned["question"]
            )
            .exclude(pk=faq.pk)
            .values_list("id", flat=True)
            .first()
        )
        if duplicate:
            raise InvalidField(
                "question",
                _("FAQ #%(id)d of this shop already asks this question.") % {"id": duplicate},
            )
        now = clock.now()
        for name, value in cleaned.items():
            setattr(faq, name, value)
        faq.version += 1
        faq.updated_by = user
        faq.updated_at = now
        if faq.pk is None:
            faq.created_at = now
        faq.save()
        FaqVersion.objects.create(
            faq=faq,
            version=faq.version,
            snapshot=faq_snapshot(faq),
            changed_by=user,
            changed_at=now,
            note=note[:200],
        )
        bump_revision(shop.id)
    return faq


def _set_faq_status(user, faq_id: int, status: str, note: str, clock: Clock) -> Faq:
    with transaction.atomic():
        faq = _faq_for_update(user, faq_id)
        return save_faq(user, faq.shop, {"status": status}, faq_id=faq.id, note=note, clock=clock)


def publish_faq(user, faq_id: int, *, clock: Clock = system_clock) -> Faq:
    return _set_faq_status(user, faq_id, FaqStatus.PUBLISHED, _("Published"), clock)


def archive_faq(user, faq_id: int, *, clock: Clock = system_clock) -> Faq:
    return _set_faq_status(user, faq_id, FaqStatus.ARCHIVED, _("Archived"), clock)


def delete_faq(user, faq_id: int) -> None:
    with transaction.atomic():
        faq = _faq_for_update(user, faq_id)
        shop_id = faq.shop_id
        faq.delete()
        bump_revision(shop_id)


def draft_faq_from_questions(
    shop: Shop, questions: list[str], user=None, *, intent: str = "", clock: Clock = system_clock
) -> Faq:
    """A draft FAQ from customers' unanswered questions (the bot's knowledge-gap
    report): the first is the question, the rest its phrasings, filed under
    `intent` when given. When a FAQ with that question exists, the new phrasings
    (and the intent, if it had none) are added to it instead."""
    cleaned: list[str] = []
    for question in questions:
        if isinstance(question, str):
            question = question.replace("\x00", "").strip()[:300]
            if question and "|" not in question and question not in cleaned:
                cleaned.append(question)
    if not cleaned:
        raise InvalidField("question", _("Question is empty."))
    language = language_of(cleaned[0])
    existing = Faq.objects.filter(shop=shop, language=language, question=cleaned[0]).first()
    if existing is not None:
        changes: dict[str, object] = {"paraphrases": existing.paraphrases + cleaned[1:]}
        if intent and not existing.intent:
            changes["intent"] = intent
        return save_faq(
            user,
            shop,
            changes,
            faq_id=existing.id,
            note=_("Questions added from the knowledge-gap report"),
            clock=clock,
        )
    return save_faq(
        user,
        shop,
        {
            "language": language,
            "category": _("Unsorted"),
            "intent": intent,
            "question": cleaned[0],
            "paraphrases": cleaned[1:],
            "status": FaqStatus.DRAFT,
        },
        note=_("Drafted from the knowledge-gap report"),
        clock=clock,
    )


def record_faq_use(faq_id: int, accepted: bool | None = None) -> None:
    """Count one use of an FAQ and, when known, whether it solved the question."""
    _count_faq(faq_id, use=True, accepted=accepted)


def record_faq_verdict(faq_id: int, accepted: bool) -> None:
    """Whether an answer already counted as a use solved the question (the
    customer's "solved / not solved" under a bot answer)."""
    _count_faq(faq_id, use=False, accepted=accepted)


def _count_faq(faq_id: int, *, use: bool, accepted: bool | None) -> None:
    changes: dict[str, Any] = {}
    if use:
        changes["usage_count"] = F("usage_count") + 1
    if accepted is True:
        changes["accepted_count"] = F("accepted_count") + 1
    elif accepted is False:
        changes["rejected_count"] = F("rejected_count") + 1
    if not Faq.objects.filter(id=faq_id).update(**changes):
        raise NotFound(_("FAQ not found."))


# --- quick replies -------------------------------------------------------------------

REPLY_FIELDS = ("category", "title", "text", "shortcut", "language", "position")
_PLACEHOLDER = re.compile(r"\{(customer_name|agent_name|shop_name|order_no)\}")


def clean_quick_reply_fields(data: Mapping[str, object], current: Mapping[str, object]):
    unknown = sorted(set(data) - set(REPLY_FIELDS))
    if unknown:
        raise InvalidField(unknown[0], _("Unknown field: %(field)s.") % {"field": unknown[0]})
    merged = {**current, **data}
    shortcut = _text(
        "shortcut", merged.get("shortcut"), required=True, max_chars=32, label=_("Shortcut")
    )
    if not _SHORTCUT.match(shortcut):
        raise InvalidField(
            "shortcut", _("A shortcut starts with “/” and has no spaces, like “/hi”.")
        )
    return {
        "category": _choice(
            "category", merged.get("category"), ReplyCategory.values, _("Category")
        ),
        "title": _text("title", merged.get("title"), required=True, max_chars=80, label=_("Title")),
        "text": _text(
            "text", merged.get("text"), required=True, max_chars=MAX_REPLY_CHARS, label=_("Text")
        ),
        "shortcut": shortcut,
        "language": _choice("language", merged.get("language"), Language.values, _("Language")),
        "position": _integer("position", merged.get("position", 0), _("Position")),
    }


def save_quick_reply(
    user,
    shop: Shop,
    fields: Mapping[str, object],
    *,
    reply_id: int | None = None,
    personal: bool = False,
) -> tuple[QuickReply, bool]:
    """Create or change a quick reply; returns it and whether anything changed.
    Team replies need a knowledge editor; any member keeps personal ones, which
    nobody else sees (another agent's reply is 404)."""
    with transaction.atomic():
        if reply_id is None:
            if personal:
                if user is None:
                    raise ActionError(_("A personal quick reply needs an agent."))
                _require_member(user, shop.id)
                reply = QuickReply(shop=shop, owner=user)
            else:
                _require_editor(user, shop.id)
                reply = QuickReply(shop=shop)
            current: dict[str, object] = {"language": Language.ZH_HANS, "position": 0}
        else:
            reply = _reply_for_update(user, reply_id, shop.id)
            current = {name: getattr(reply, name) for name in REPLY_FIELDS}
        cleaned = clean_quick_reply_fields(fields, current)
        if reply.pk is not None and cleaned == current:
            return reply, False
        clash = (
            QuickReply.objects.filter(shop=shop, owner=reply.owner, shortcut=cleaned["shortcut"])
            .exclude(pk=reply.pk)
            .exists()
        )
        if clash:
            raise InvalidField(
                "shortcut",
                _("The shortcut %(shortcut)s is already used.") % {"shortcut": cleaned["shortcut"]},
            )
        for name, value in cleaned.items():
            setattr(reply, name, value)
        reply.save()
    return reply, True


def _reply_for_update(user, reply_id: int, shop_id: int | None = None) -> QuickReply:
    reply = QuickReply.objects.select_for_update().filter(id=reply_id).first()
    if reply is None or (shop_id is not None and reply.shop_id != shop_id):
        raise NotFound(_("Quick reply not found."))
    if reply.owner_id is not None:
        if user is not None and reply.owner_id != user.id:
            raise NotFound(_("Quick reply not found."))
    else:
        _require_editor(user, reply.shop_id)
    return reply


def delete_quick_reply(user, reply_id: int) -> None:
    with transaction.atomic():
        _reply_for_update(user, reply_id).delete()


def record_quick_reply_use(reply_id: int) -> None:
    QuickReply.objects.filter(id=reply_id).update(usage_count=F("usage_count") + 1)


def render_quick_reply(reply_text: str, *, conversation=None, agent=None, shop=None) -> str:
    """Fill {customer_name}, {agent_name}, {shop_name} and {order_no}. A value
    that is not known (there is no order model yet, so {order_no} always) stays
    as the placeholder for the agent to fill in; other braces are left alone."""
    if conversation is not None:
        shop = shop or conversation.shop
        agent = agent or conversation.agent
    values: dict[str, str] = {}
    if conversation is not None and conversation.customer_id:
        values["customer_name"] = conversation.customer.name
    if agent is not None:
        profile = getattr(agent, "agent_profile", None)
        values["agent_name"] = (
            profile.display_name if profile else (agent.get_full_name() or agent.get_username())
        )
    if shop is not None:
        values["shop_name"] = shop.name
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1)) or m.group(0), reply_text)


# --- scripts, cases, manuals ---------------------------------------------------------


def save_script(user, shop: Shop, fields: Mapping[str, object], *, script_id=None) -> Script:
    with transaction.atomic():
        _require_editor(user, shop.id)
        script = Script(shop=shop) if script_id is None else _owned(Script, script_id, shop.id)
        script.stage = _choice("stage", fields.get("stage"), ScriptStage.values, _("Stage"))
        script.title = _text(
            "title", fields.get("title"), required=True, max_chars=120, label=_("Title")
        )
        script.text = _text(
            "text", fields.get("text"), required=True, max_chars=MAX_REPLY_CHARS, label=_("Text")
        )
        script.language = _choice(
            "language", fields.get("language", Language.ZH_HANS), Language.values, _("Language")
        )
        script.position = _integer("position", fields.get("position", 0), _("Position"))
        script.save()
    return script


def save_case(
    user,
    shop: Shop,
    fields: Mapping[str, object],
    *,
    case_id=None,
    conversation=None,
    clock: Clock = system_clock,
) -> Case:
    with transaction.atomic():
        _require_editor(user, shop.id)
        if case_id is None:
            case = Case(shop=shop, created_by=user, created_at=clock.now())
        else:
            case = _owned(Case, case_id, shop.id)
        if conversation is not None:
            if conversation.shop_id != shop.id:
                raise NotFound(_("Conversation not found."))
            case.conversation = conversation
        case.kind = _choice("kind", fields.get("kind"), CaseKind.values, _("Kind"))
        case.title = _text(
            "title", fields.get("title"), required=True, max_chars=120, label=_("Title")
        )
        case.situation = _text(
            "situation",
            fields.get("situation"),
            required=True,
            max_chars=5000,
            label=_("Situation"),
        )
        case.handling = _text(
            "handling", fields.get("handling"), required=True, max_chars=5000, label=_("Handling")
        )
        case.lesson = _text(
            "lesson", fields.get("lesson"), required=False, max_chars=5000, label=_("Lesson")
        )
        case.tags = _phrases("tags", fields.get("tags"), _("Tags"), 40)
        case.language = _choice(
            "language", fields.get("language", Language.ZH_HANS), Language.values, _("Language")
        )
        case.save()
    return case


def save_manual(
    user, shop: Shop, fields: Mapping[str, object], *, clock: Clock = system_clock
) -> Manual:
    """Create or replace the manual of a kind and language; a new body is a new version."""
    kind = _text("kind", fields.get("kind"), required=True, max_chars=40, label=_("Kind"))
    if not _KIND.match(kind):
        raise InvalidField(
            "kind", _("The kind is a code of lowercase letters, digits, “_” and “-”.")
        )
    language = _choice(
        "language", fields.get("language", Language.ZH_HANS), Language.values, _("Language")
    )
    title = _text("title", fields.get("title"), required=True, max_chars=120, label=_("Title"))
    body = _text(
        "body", fields.get("body"), required=True, max_chars=MAX_BODY_CHARS, label=_("Body")
    )
    with transaction.atomic():
        _require_editor(user, shop.id)
        manual = (
            Manual.objects.select_for_update()
            .filter(shop=shop, kind=kind, language=language)
            .first()
        )
        if manual is None:
            return Manual.objects.create(
                shop=shop,
                kind=kind,
                language=language,
                title=title,
                body=body,
                updated_at=clock.now(),
            )
        if (manual.title, manual.body) != (title, body):
            manual.version += manual.body != body
            manual.title, manual.body, manual.updated_at = title, body, clock.now()
            manual.save()
    return manual


def delete_item(user, model: type[Script] | type[Case] | type[Manual], item_id: int) -> None:
    with transaction.atomic():
        item = model.objects.select_for_update().filter(id=item_id).first()
        if item is None:
            raise NotFound(_("Not found."))
        _require_editor(user, item.shop_id)
        item.delete()


def _owned(model, item_id, shop_id: int):
    item = model.objects.select_for_update().filter(id=item_id, shop_id=shop_id).first()
    if item is None:
        raise NotFound(_("Not found."))
    return item


# --- synonyms ------------------------------------------------------------------------


def clean_synonym_terms(terms: object) -> list[str]:
    cleaned = _phrases("terms", terms, _("Synonyms"), 40)
    distinct = {normalize(term) for term in cleaned}
    if len(distinct) < 2:
        raise InvalidField("terms", _("A synonym group needs at least two different terms."))
    return cleaned


def save_synonym(user, shop: Shop, terms: object, *, synonym_id: int | None = None) -> Synonym:
    cleaned = clean_synonym_terms(terms)
    with transaction.atomic():
        _require_editor(user, shop.id)
        synonym = Synonym(shop=shop) if synonym_id is None else _owned(Synonym, synonym_id, shop.id)
        if synonym.pk is not None and synonym.terms == cleaned:
            return synonym
        synonym.terms = cleaned
        synonym.save()
        bump_revision(shop.id)
    return synonym


def save_synonyms(user, shop: Shop, groups: Iterable[object]) -> list[Synonym]:
    """Replace all of the shop's synonym groups."""
    cleaned = [clean_synonym_terms(group) for group in groups]
    with transaction.atomic():
        _require_editor(user, shop.id)
        current = list(Synonym.objects.filter(shop=shop).order_by("id"))
        if [s.terms for s in current] == cleaned:
            return current
        Synonym.objects.filter(shop=shop).delete()
        saved = [Synonym.objects.create(shop=shop, terms=terms) for terms in cleaned]
        bump_revision(shop.id)
    return saved


def delete_synonym(user, synonym_id: int) -> None:
    with transaction.atomic():
        synonym = Synonym.objects.select_for_update().filter(id=synonym_id).first()
        if synonym is None:
            raise NotFound(_("Not found."))
        _require_editor(user, synonym.shop_id)
        synonym.delete()
        bump_revision(synonym.shop_id)

"""The shop's knowledge: FAQs with their version history, quick replies, the
standard scripts of each service stage, service cases, manuals and synonyms.
`KnowledgeRevision` is bumped with every change to FAQs or synonyms, so each
process can tell with one query that its cached search index is stale."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Language(models.TextChoices):
    ZH_HANS = "zh-hans", _("Simplified Chinese")
    EN = "en", _("English")


class FaqStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")
    ARCHIVED = "archived", _("Archived")


class Faq(models.Model):
    shop = models.ForeignKey(
        "accounts.Shop", on_delete=models.CASCADE, related_name="faqs", verbose_name=_("shop")
    )
    language = models.CharField(
        _("language"), max_length=10, choices=Language.choices, default=Language.ZH_HANS
    )
    category = models.CharField(_("category"), max_length=60)
    intent = models.CharField(_("intent"), max_length=60, blank=True)
    question = models.CharField(_("question"), max_length=300)
    paraphrases = models.JSONField(_("other phrasings"), default=list, blank=True)
    answer = models.TextField(_("answer"))
    products = models.JSONField(_("products"), default=list, blank=True)
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_to = models.DateField(_("valid to"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=FaqStatus.choices, default=FaqStatus.DRAFT
    )
    review_due = models.DateField(_("review due"), null=True, blank=True)
    usage_count = models.PositiveIntegerField(_("uses"), default=0)
    accepted_count = models.PositiveIntegerField(_("accepted"), default=0)
    rejected_count = models.PositiveIntegerField(_("rejected"), default=0)
    version = models.PositiveIntegerField(_("version"), default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("created by"),
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("updated by"),
    )
    created_at = models.DateTimeField(_("created at"))
    updated_at = models.DateTimeField(_("updated at"))

    class Meta:
        verbose_name = _("FAQ")
        verbose_name_plural = _("FAQs")
        constraints = [
            models.UniqueConstraint(
                fields=["shop", "language", "question"], name="unique_faq_question"
            )
        ]
        indexes = [models.Index(fields=["shop", "status"])]

    def __str__(self) -> str:
        return self.question


class FaqVersion(models.Model):
    """One row per saved change: who changed what, and the fields as they became."""

    faq = models.ForeignKey(
        Faq, on_delete=models.CASCADE, related_name="versions", verbose_name=_("FAQ")
    )
    version = models.PositiveIntegerField(_("version"))
    snapshot = models.JSONField(_("snapshot"))
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("changed by"),
    )
    changed_at = models.DateTimeField(_("changed at"))
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("FAQ version")
        verbose_name_plural = _("FAQ versions")
        ordering = ["faq", "version"]
        constraints = [
            models.UniqueConstraint(fields=["faq", "version"], name="unique_faq_version")
        ]

    def __str__(self) -> str:
        return f"{self.faq_id} v{self.version}"


class ReplyCategory(models.TextChoices):
    """The courseware's categories of quick replies."""

    GREETING = "greeting", _("Greeting")
    INQUIRY = "inquiry", _("Product inquiry")
    ORDER = "order", _("Order")
    AFTER_SALES = "after_sales", _("After-sales")
    COMPLAINT = "complaint", _("Complaint")
    HOLIDAY = "holiday", _("Holiday")


class QuickReply(models.Model):
    """A canned reply; `owner` null is the team's, otherwise one agent's own."""

    shop = models.ForeignKey(
        "accounts.Shop",
        on_delete=models.CASCADE,
        related_name="quick_replies",
        verbose_name=_("shop"),
    )
    category = models.CharField(_("category"), max_length=20, choices=ReplyCategory.choices)
    title = models.CharField(_("title"), max_length=80)
    text = models.TextField(_("text"))
    shortcut = models.CharField(_("shortcut"), max_length=32)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="quick_replies",
        verbose_name=_("owner"),
        help_text=_("Empty for a team reply; otherwise only this agent sees it."),
    )
    language = models.CharField(
        _("language"), max_length=10, choices=Language.choices, default=Language.ZH_HANS
    )
    usage_count = models.PositiveIntegerField(_("uses"), default=0)
    position = models.IntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("quick reply")
        verbose_name_plural = _("quick replies")
        constraints = [
            models.UniqueConstraint(
                fields=["shop", "shortcut"],
                condition=Q(owner__isnull=True),
                name="unique_team_shortcut",
            ),
            models.UniqueConstraint(
                fields=["shop", "owner", "shortcut"],
                condition=Q(owner__isnull=False),
                name="unique_personal_shortcut",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.shortcut} {self.title}"


class ScriptStage(models.TextChoices):
    GREETING = "greeting", _("Greeting")
    DIALOGUE = "dialogue", _("Dialogue")
    BARGAINING = "bargaining", _("Bargaining")
    PAYMENT = "payment", _("Payment")
    LOGISTICS = "logistics", _("Logistics")
    AFTER_SALES = "after_sales", _("After-sales")
    FAREWELL = "farewell", _("Farewell")
    REVIEW_REQUEST = "review_request", _("Review request")


class Script(models.Model):
    """A standard script for one stage of a sale (the Taobao course's 话术)."""

    shop = models.ForeignKey(
        "accounts.Shop", on_delete=models.CASCADE, related_name="scripts", verbose_name=_("shop")
    )
    stage = models.CharField(_("stage"), max_length=20, choices=ScriptStage.choices)
    title = models.CharField(_("title"), max_length=120)
    text = models.TextField(_("text"))
    language = models.CharField(
        _("language"), max_length=10, choices=Language.choices, default=Language.ZH_HANS
    )
    position = models.IntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("script")
        verbose_name_plural = _("scripts")

    def __str__(self) -> str:
        return self.title


class CaseKind(models.TextChoices):
    SUCCESS = "success", _("Success")
    FAILURE = "failure", _("Failure")


class Case(models.Model):
    """A service case to learn from: what happened, how it was handled, the lesson."""

    shop = models.ForeignKey(
        "accounts.Shop", on_delete=models.CASCADE, related_name="cases", verbose_name=_("shop")
    )
    kind = models.CharField(_("kind"), max_length=10, choices=CaseKind.choices)
    title = models.CharField(_("title"), max_length=120)
    situation = models.TextField(_("situation"))
    handling = models.TextField(_("handling"))
    lesson = models.TextField(_("lesson"), blank=True)
    tags = models.JSONField(_("tags"), default=list, blank=True)
    conversation = models.ForeignKey(
        "inbox.Conversation",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("conversation"),
    )
    language = models.CharField(
        _("language"), max_length=10, choices=Language.choices, default=Language.ZH_HANS
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("case")
        verbose_name_plural = _("cases")

    def __str__(self) -> str:
        return self.title


class Manual(models.Model):
    """A service manual (simple markdown: headings, lists, paragraphs)."""

    shop = models.ForeignKey(
        "accounts.Shop", on_delete=models.CASCADE, related_name="manuals", verbose_name=_("shop")
    )
    kind = models.SlugField(_("kind"), max_length=40)
    title = models.CharField(_("title"), max_length=120)
    body = models.TextField(_("body"))
    language = models.CharField(
        _("language"), max_length=10, choices=Language.choices, default=Language.ZH_HANS
    )
    version = models.PositiveIntegerField(_("version"), default=1)
    updated_at = models.DateTimeField(_("updated at"))

    class Meta:
        verbose_name = _("manual")
        verbose_name_plural = _("manuals")
        constraints = [
            models.UniqueConstraint(fields=["shop", "kind", "language"], name="unique_manual_kind")
        ]

    def __str__(self) -> str:
        return self.title


class Synonym(models.Model):
    """Terms customers use for the same thing (快递 / 物流 / shipping)."""

    shop = models.ForeignKey(
        "accounts.Shop", on_delete=models.CASCADE, related_name="synonyms", verbose_name=_("shop")
    )
    terms = models.JSONField(_("terms"), default=list)

    class Meta:
        verbose_name = _("synonym group")
        verbose_name_plural = _("synonym groups")

    def __str__(self) -> str:
        return " / ".join(str(term) for term in self.terms)


class KnowledgeRevision(models.Model):
    """Bumped in the transaction of every change to a shop's FAQs or synonyms."""

    shop = models.OneToOneField(
        "accounts.Shop",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="+",
        verbose_name=_("shop"),
    )
    revision = models.PositiveBigIntegerField(_("revision"), default=0)

    class Meta:
        verbose_name = _("knowledge revision")
        verbose_name_plural = _("knowledge revisions")

    def __str__(self) -> str:
        return f"{self.shop_id}@{self.revision}"

"""The bot's per-shop settings, its intents and their examples, trained models,
and one `BotTurn` per customer message it handled (the knowledge-gap source)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

# The shop default: kefu.bot.nlp.faq.DEFAULT_ANSWER_THRESHOLD (a test keeps them equal),
# chosen from the precision/coverage curve of bench/bot_eval.py
# (docs/BENCHMARKS.md, "Bot evaluation").
DEFAULT_ANSWER_THRESHOLD = 0.9


class BotSettings(models.Model):
    shop = models.OneToOneField(
        "accounts.Shop",
        on_delete=models.CASCADE,
        related_name="bot_settings",
        verbose_name=_("shop"),
    )
    enabled = models.BooleanField(_("bot answers first"), default=False)
    name = models.CharField(_("bot name"), max_length=40, default="小暖")
    answer_threshold = models.FloatField(
        _("answer threshold"),
        default=DEFAULT_ANSWER_THRESHOLD,
        help_text=_("The bot answers only when its confidence reaches this value (0–1)."),
    )
    max_unaccepted = models.PositiveSmallIntegerField(
        _("hand off after this many unaccepted answers"), default=2
    )
    handoff_vip = models.BooleanField(_("VIP customers go straight to an agent"), default=True)
    handoff_negative = models.BooleanField(
        _("hand off on negative or angry sentiment"), default=True
    )
    idle_close_minutes = models.PositiveIntegerField(
        _("close a bot conversation after this many quiet minutes"), default=30
    )
    handoff_text = models.TextField(
        _("handoff message"), default="好的，正在为您转接人工客服，请稍候，客服会看到您之前的留言。"
    )
    # Optional OpenAI-compatible chat endpoint (the shop's own model server).
    llm_enabled = models.BooleanField(
        _("draft answers with the shop's language model"), default=False
    )
    llm_base_url = models.URLField(_("model server URL"), blank=True)
    llm_model = models.CharField(_("model name"), max_length=100, blank=True)
    llm_api_key = models.CharField(_("model server API key"), max_length=200, blank=True)
    llm_timeout_seconds = models.FloatField(_("model server timeout (seconds)"), default=8.0)

    class Meta:
        verbose_name = _("bot settings")
        verbose_name_plural = _("bot settings")

    def __str__(self) -> str:
        return str(self.shop)


class Intent(models.Model):
    shop = models.ForeignKey(
        "accounts.Shop", on_delete=models.CASCADE, related_name="intents", verbose_name=_("shop")
    )
    code = models.SlugField(_("code"), max_length=40)
    name_zh = models.CharField(_("Chinese name"), max_length=60)
    name_en = models.CharField(_("English name"), max_length=60)
    group_code = models.CharField(
        _("skill group"), max_length=30, blank=True, help_text=_("Routing uses it for handoffs.")
    )
    handoff = models.BooleanField(_("always hand off to an agent"), default=False)

    class Meta:
        verbose_name = _("intent")
        verbose_name_plural = _("intents")
        ordering = ["code"]
        constraints = [models.UniqueConstraint(fields=["shop", "code"], name="unique_intent_code")]

    def __str__(self) -> str:
        return f"{self.code} · {self.name_zh}"


class IntentExample(models.Model):
    intent = models.ForeignKey(
        Intent, on_delete=models.CASCADE, related_name="examples", verbose_name=_("intent")
    )
    text = models.CharField(_("text"), max_length=500)

    class Meta:
        verbose_name = _("intent example")
        verbose_name_plural = _("intent examples")
        constraints = [
            models.UniqueConstraint(fields=["intent", "text"], name="unique_intent_example")
        ]

    def __str__(self) -> str:
        return self.text


class SentimentLabel(models.TextChoices):
    NEGATIVE = "negative", _("Negative")
    NEUTRAL = "neutral", _("Neutral")
    POSITIVE = "positive", _("Positive")


class SentimentExample(models.Model):
    """A shop's own labelled message; `kefu train_bot` adapts the shipped model to them."""

    shop = models.ForeignKey("accounts.Shop", on_delete=models.CASCADE, verbose_name=_("shop"))
    text = models.CharField(_("text"), max_length=1000)
    label = models.CharField(_("label"), max_length=10, choices=SentimentLabel.choices)

    class Meta:
        verbose_name = _("sentiment example")
        verbose_name_plural = _("sentiment examples")

    def __str__(self) -> str:
        return self.text


class ModelKind(models.TextChoices):
    INTENT = "intent", _("Intent classifier")
    SENTIMENT = "sentiment", _("Sentiment model")


class TrainedModel(models.Model):
    """A shop's trained model; every process loads the newest of each kind."""

    shop = models.ForeignKey("accounts.Shop", on_delete=models.CASCADE, verbose_name=_("shop"))
    kind = models.CharField(_("kind"), max_length=10, choices=ModelKind.choices)
    blob = models.BinaryField()
    examples = models.PositiveIntegerField(_("examples"), default=0)
    labels = models.JSONField(_("labels"), default=list)
    seconds = models.FloatField(_("training time (seconds)"), default=0)
    trained_at = models.DateTimeField(_("trained at"))

    class Meta:
        verbose_name = _("trained model")
        verbose_name_plural = _("trained models")
        indexes = [models.Index(fields=["shop", "kind", "-id"])]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk}"


class Outcome(models.TextChoices):
    ANSWERED = "answered", _("Answered")
    HANDOFF = "handoff", _("Handed off")


class HandoffReason(models.TextChoices):
    HUMAN_REQUEST = "human_request", _("Asked for a person")
    NEGATIVE = "negative", _("Negative or angry")
    INTENT = "intent", _("Intent always goes to an agent")
    VIP = "vip", _("VIP customer")
    NOT_RESOLVED = "not_resolved", _("Answers did not help")
    LOW_CONFIDENCE = "low_confidence", _("No confident answer")
    BLOCKED = "blocked", _("Answer blocked")


class Feedback(models.TextChoices):
    ACCEPTED = "accepted", _("Solved")
    REJECTED = "rejected", _("Not solved")


class BotTurn(models.Model):
    shop = models.ForeignKey("accounts.Shop", on_delete=models.CASCADE, verbose_name=_("shop"))
    conversation = models.ForeignKey(
        "inbox.Conversation",
        on_delete=models.CASCADE,
        related_name="bot_turns",
        verbose_name=_("conversation"),
    )
    message_seq = models.PositiveIntegerField(_("message number"))
    text = models.TextField(_("customer's message"))
    intent = models.CharField(_("intent"), max_length=40, blank=True)
    intent_confidence = models.FloatField(_("intent confidence"), default=0)
    sentiment = models.CharField(
        _("sentiment"), max_length=10, choices=SentimentLabel.choices, blank=True
    )
    angry = models.BooleanField(_("angry"), default=False)
    faq = models.ForeignKey(
        "knowledge.Faq",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("FAQ"),
    )
    confidence = models.FloatField(_("answer confidence"), default=0)
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices)
    reason = models.CharField(
        _("handoff reason"), max_length=20, choices=HandoffReason.choices, blank=True
    )
    answer_seq = models.PositiveIntegerField(_("answer number"), null=True, blank=True)
    drafted_by_model = models.BooleanField(_("drafted by the model server"), default=False)
    feedback = models.CharField(
        _("customer feedback"), max_length=10, choices=Feedback.choices, blank=True
    )
    gap_resolved = models.BooleanField(_("turned into an FAQ"), default=False)
    created_at = models.DateTimeField(_("at"))

    class Meta:
        verbose_name = _("bot turn")
        verbose_name_plural = _("bot turns")
        constraints = [
            models.UniqueConstraint(
                fields=["conversation", "message_seq"], name="unique_bot_turn_per_message"
            )
        ]
        indexes = [models.Index(fields=["shop", "outcome", "created_at"])]

    def __str__(self) -> str:
        return self.text[:60]

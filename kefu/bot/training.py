"""Training a shop's models from its own data, and loading the newest ones.

Intents learn from the shop's labelled examples plus the phrasings of its
published FAQs that name an intent; sentiment starts from the shipped model
and adapts to the shop's labelled messages when it has enough of them."""

from __future__ import annotations

import json
import logging
import pickle
import threading
import time
from dataclasses import dataclass
from importlib import resources

from django.db import transaction
from django.utils import timezone

from kefu.bot.nlp.intent import IntentModel
from kefu.bot.nlp.sentiment import SentimentModel

from .models import Intent, IntentExample, ModelKind, SentimentExample, TrainedModel

MIN_SENTIMENT_EXAMPLES = 20
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainReport:
    kind: str
    examples: int
    labels: int
    seconds: float
    trained: bool


def default_intents() -> list[dict]:
    text = resources.files("kefu.bot").joinpath("intents_seed.json").read_text("utf-8")
    return json.loads(text)


@transaction.atomic
def ensure_default_intents(shop) -> int:
    """Give a shop the default intents and their examples; keeps the shop's own
    edits (an existing intent is not touched). Returns how many were created."""
    existing = set(Intent.objects.filter(shop=shop).values_list("code", flat=True))
    created = 0
    for spec in default_intents():
        if spec["code"] in existing:
            continue
        intent = Intent.objects.create(
            shop=shop,
            code=spec["code"],
            name_zh=spec["name_zh"],
            name_en=spec["name_en"],
            group_code=spec.get("skill_group", ""),
            handoff=bool(spec.get("handoff")),
        )
        IntentExample.objects.bulk_create(
            [IntentExample(intent=intent, text=t[:500]) for t in dict.fromkeys(spec["examples"])]
        )
        created += 1
    return created


def intent_training_data(shop) -> tuple[list[str], list[str]]:
    from kefu.knowledge.models import Faq

    texts: list[str] = []
    labels: list[str] = []
    for text, code in IntentExample.objects.filter(intent__shop=shop).values_list(
        "text", "intent__code"
    ):
        texts.append(text)
        labels.append(code)
    known = set(labels)
    for faq in Faq.objects.filter(shop=shop, status="published").exclude(intent=""):
        if faq.intent not in known:
            continue
        for phrasing in [faq.question, *faq.paraphrases]:
            texts.append(phrasing)
            labels.append(faq.intent)
    return texts, labels


def train_intents(shop) -> TrainReport:
    started = time.perf_counter()
    texts, labels = intent_training_data(shop)
    if len(set(labels)) < 2:
        return TrainReport(ModelKind.INTENT, len(texts), len(set(labels)), 0.0, False)
    model = IntentModel.fit(texts, labels)
    return _store(shop, ModelKind.INTENT, model.to_bytes(), texts, sorted(set(labels)), started)


def train_sentiment(shop) -> TrainReport:
    started = time.perf_counter()
    rows = list(SentimentExample.objects.filter(shop=shop).values_list("text", "label"))
    if len(rows) < MIN_SENTIMENT_EXAMPLES:
        return TrainReport(ModelKind.SENTIMENT, len(rows), 0, 0.0, False)
    texts = [t for t, _ in rows]
    labels = [label for _, label in rows]
    model = SentimentModel.shipped().adapt(texts, labels)
    return _store(shop, ModelKind.SENTIMENT, model.to_bytes(), texts, sorted(set(labels)), started)


def _store(shop, kind, blob: bytes, texts, labels, started: float) -> TrainReport:
    seconds = time.perf_counter() - started
    TrainedModel.objects.create(
        shop=shop,
        kind=kind,
        blob=blob,
        examples=len(texts),
        labels=labels,
        seconds=seconds,
        trained_at=timezone.now(),
    )
    # Older models are history; keep the last few for comparison.
    stale = TrainedModel.objects.filter(shop=shop, kind=kind).order_by("-id")[3:]
    TrainedModel.objects.filter(id__in=list(stale.values_list("id", flat=True))).delete()
    return TrainReport(kind, len(texts), len(labels), seconds, True)


# --- Loading (per process, refreshed when a newer model is stored) ----------------

_lock = threading.Lock()
_loaded: dict[tuple[int, str], tuple[int, object]] = {}


def current_model(shop_id: int, kind: str):
    """The newest trained model of that kind for the shop, or None."""
    newest = (
        TrainedModel.objects.filter(shop_id=shop_id, kind=kind)
        .order_by("-id")
        .values_list("id", flat=True)
        .first()
    )
    if newest is None:
        return None
    cached = _loaded.get((shop_id, kind))
    if cached and cached[0] == newest:
        return cached[1]
    blob = TrainedModel.objects.filter(id=newest).values_list("blob", flat=True).first()
    if blob is None:
        return None
    loader = IntentModel if kind == ModelKind.INTENT else SentimentModel
    try:
        model = loader.from_bytes(bytes(blob))
    except (ValueError, TypeError, EOFError, pickle.UnpicklingError, AttributeError):
        # Stored by an older release in a format this one no longer reads: the
        # shop's next `kefu train_bot` replaces it; until then, as if untrained.
        log.warning("shop %s: %s model #%s is in an old format", shop_id, kind, newest)
        return None
    with _lock:
        _loaded[(shop_id, kind)] = (newest, model)
    return model


def intent_model(shop) -> IntentModel | None:
    model = current_model(shop.id, ModelKind.INTENT)
    if model is None and Intent.objects.filter(shop=shop).exists():
        train_intents(shop)
        model = current_model(shop.id, ModelKind.INTENT)
    return model


def sentiment_model(shop) -> SentimentModel:
    return current_model(shop.id, ModelKind.SENTIMENT) or SentimentModel.shipped()


def clear_cache() -> None:
    """Forget loaded models (tests: row ids repeat after a rollback)."""
    with _lock:
        _loaded.clear()

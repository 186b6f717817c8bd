"""The knowledge-gap report: customers' questions the bot could not answer,
handed off, or answered without solving, grouped by meaning so an editor can
write one FAQ per group."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass

import numpy as np
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _
from sklearn.cluster import AgglomerativeClustering
from sklearn.feature_extraction.text import TfidfVectorizer

from kefu.bot.nlp.text import normalize
from kefu.core.clock import Clock, system_clock
from kefu.core.errors import ActionError

from .models import BotTurn, Feedback, HandoffReason, Outcome

MAX_TURNS = 2000
# Average cosine distance under which two questions are the same gap.
DISTANCE_THRESHOLD = 0.8


@dataclass
class GapGroup:
    representative: str
    turn_ids: list[int]
    questions: list[str]
    intent: str
    last_seen: dt.datetime
    intent_name: str = ""

    @property
    def size(self) -> int:
        return len(self.turn_ids)


def gap_turns(shop_id: int, *, days: int = 30, clock: Clock = system_clock):
    since = clock.now() - dt.timedelta(days=days)
    return (
        BotTurn.objects.filter(shop_id=shop_id, created_at__gte=since, gap_resolved=False)
        .filter(
            Q(
                outcome=Outcome.HANDOFF,
                reason__in=[HandoffReason.LOW_CONFIDENCE, HandoffReason.NOT_RESOLVED],
            )
            | Q(feedback=Feedback.REJECTED)
        )
        .order_by("-created_at")[:MAX_TURNS]
    )


def group_questions(turns) -> list[GapGroup]:
    turns = list(turns)
    if not turns:
        return []
    texts = [normalize(t.text) for t in turns]
    if len(turns) == 1:
        labels = np.zeros(1, dtype=int)
        vectors = None
    else:
        vectors = TfidfVectorizer(analyzer="char", ngram_range=(1, 2), sublinear_tf=True)
        matrix = vectors.fit_transform(texts).toarray()
        labels = AgglomerativeClustering(
            n_clusters=None,
            metric="cosine",
            linkage="average",
            distance_threshold=DISTANCE_THRESHOLD,
        ).fit_predict(matrix)
    groups = []
    for label in sorted(set(labels.tolist())):
        members = [i for i, value in enumerate(labels) if value == label]
        if vectors is not None:
            block = matrix[members]
            centre = block.mean(axis=0)
            representative = members[int(np.argmax(block @ centre))]
        else:
            representative = members[0]
        questions = list(dict.fromkeys(turns[i].text for i in [representative, *members]))
        intents = Counter(turns[i].intent for i in members if turns[i].intent)
        groups.append(
            GapGroup(
                representative=turns[representative].text,
                turn_ids=[turns[i].id for i in members],
                questions=questions,
                intent=intents.most_common(1)[0][0] if intents else "",
                last_seen=max(turns[i].created_at for i in members),
            )
        )
    groups.sort(key=lambda g: (-g.size, -g.last_seen.timestamp()))
    return groups


def draft_faq_from_gap(user, shop, turn_ids: list[int], *, clock: Clock = system_clock):
    """One action: a draft FAQ from a group's questions; the group leaves the report."""
    from kefu.knowledge import actions as knowledge_actions

    with transaction.atomic():
        turns = list(
            BotTurn.objects.select_for_update()
            .filter(shop=shop, id__in=turn_ids, gap_resolved=False)
            .order_by("created_at")
        )
        if not turns:
            raise ActionError(_("These questions already have a draft."), code="empty_gap")
        intents = Counter(t.intent for t in turns if t.intent).most_common(1)
        faq = knowledge_actions.draft_faq_from_questions(
            shop,
            [t.text for t in turns],
            user,
            intent=intents[0][0] if intents else "",
            clock=clock,
        )
        BotTurn.objects.filter(id__in=[t.id for t in turns]).update(gap_resolved=True)
    return faq

"""Training from a shop's own data, through the command a shop runs."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from kefu.bot import training
from kefu.bot.models import Intent, ModelKind, SentimentExample, TrainedModel
from kefu.tests import factories as f

pytestmark = pytest.mark.django_db

CALM = ["请问有货吗", "什么时候发货", "可以开发票吗", "有别的颜色吗", "when do you ship"]
ANGRY = ["垃圾质量", "太慢了气死了", "再也不买了", "客服态度太差", "terrible service"]
HAPPY = ["很满意", "质量很好", "物流很快", "好评", "great quality, thanks"]


def test_seed_intents_then_train_from_the_command():
    shop = f.make_shop()
    out = StringIO()
    call_command("train_bot", "--shop", shop.slug, "--seed-intents", stdout=out)
    text = out.getvalue()
    assert "default intents added" in text and "intent trained on" in text
    assert "sentiment not trained" in text  # no labelled messages yet
    codes = set(Intent.objects.filter(shop=shop).values_list("code", flat=True))
    assert {"human_request", "complaint", "return", "shipping_time", "other"} <= codes
    model = training.intent_model(shop)
    assert model.predict("转人工").label == "human_request"
    assert model.predict("退货运费谁出").label == "return"
    # Seeding again keeps the shop's own edits and adds nothing.
    Intent.objects.filter(shop=shop, code="return").update(name_zh="退货退款")
    assert training.ensure_default_intents(shop) == 0
    assert Intent.objects.get(shop=shop, code="return").name_zh == "退货退款"


def test_unknown_shop_is_a_clear_error():
    with pytest.raises(CommandError, match="nope"):
        call_command("train_bot", "--shop", "nope")


def test_sentiment_adapts_to_the_shops_labels_once_there_are_enough():
    shop = f.make_shop()
    rows = [(t, "neutral") for t in CALM] + [(t, "negative") for t in ANGRY]
    rows += [(t, "positive") for t in HAPPY]
    SentimentExample.objects.bulk_create(
        SentimentExample(shop=shop, text=t, label=label) for t, label in rows[:10]
    )
    assert not training.train_sentiment(shop).trained  # too few
    SentimentExample.objects.bulk_create(
        SentimentExample(shop=shop, text=f"{t}{i}", label=label)
        for i in range(2)
        for t, label in rows
    )
    report = training.train_sentiment(shop)
    assert report.trained and report.examples == 40
    assert TrainedModel.objects.filter(shop=shop, kind=ModelKind.SENTIMENT).count() == 1
    adapted = training.sentiment_model(shop)
    assert adapted.predict("太慢了气死了").label == "negative"


def test_only_the_last_three_models_are_kept():
    shop = f.make_shop()
    training.ensure_default_intents(shop)
    for _ in range(5):
        training.train_intents(shop)
    assert TrainedModel.objects.filter(shop=shop, kind=ModelKind.INTENT).count() == 3


def test_bot_admin_shows_only_the_shops_one_edits(client):
    from django.contrib.auth.models import Permission

    from kefu.bot.models import BotSettings

    mine, theirs = f.make_shop(), f.make_shop()
    BotSettings.objects.create(shop=mine)
    BotSettings.objects.create(shop=theirs)
    supervisor = f.make_agent(mine, role="supervisor")
    supervisor.is_staff = True
    supervisor.save()
    supervisor.user_permissions.set(Permission.objects.filter(content_type__app_label="bot"))
    client.force_login(supervisor)
    listing = client.get("/admin/bot/botsettings/").content.decode()
    assert str(mine) in listing and str(theirs) not in listing
    foreign = BotSettings.objects.get(shop=theirs)
    assert client.get(f"/admin/bot/botsettings/{foreign.pk}/change/").status_code == 302


def test_a_model_in_an_old_format_is_ignored_not_fatal():
    from django.utils import timezone

    shop = f.make_shop()
    TrainedModel.objects.create(
        shop=shop, kind=ModelKind.SENTIMENT, blob=b"not a model", trained_at=timezone.now()
    )
    assert training.current_model(shop.id, ModelKind.SENTIMENT) is None
    assert training.sentiment_model(shop).predict("质量太差了").label == "negative"

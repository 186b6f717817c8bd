"""`kefu train_bot [--shop SLUG] [--seed-intents]`: retrain the bot's models."""

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from kefu.accounts.models import Shop
from kefu.bot import training


class Command(BaseCommand):
    help = "Retrain each shop's intent classifier (and sentiment model when it has labels)."

    def add_arguments(self, parser):
        parser.add_argument("--shop", help="shop slug (default: every shop)")
        parser.add_argument(
            "--seed-intents",
            action="store_true",
            help="first give the shop the default intents it does not have yet",
        )

    def handle(self, *args, shop=None, seed_intents=False, **options):
        shops = Shop.objects.order_by("id")
        if shop:
            shops = shops.filter(slug=shop)
            if not shops.exists():
                raise CommandError(_("No shop with slug %(slug)s.") % {"slug": shop})
        for each in shops:
            if seed_intents:
                created = training.ensure_default_intents(each)
                self.stdout.write(f"{each.slug}: {created} default intents added")
            for report in (training.train_intents(each), training.train_sentiment(each)):
                if report.trained:
                    self.stdout.write(
                        f"{each.slug}: {report.kind} trained on {report.examples} examples, "
                        f"{report.labels} labels, {report.seconds:.2f} s"
                    )
                else:
                    self.stdout.write(
                        f"{each.slug}: {report.kind} not trained ({report.examples} examples)"
                    )

from django.core.management.base import BaseCommand

from kefu.accounts.demo import DEMO_PASSWORD, STAFF, load_demo


class Command(BaseCommand):
    help = (
        "Load the demo shop with its knowledge base and bot (idempotent) and print the demo logins."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--bot",
            action="store_true",
            help="let the bot answer first in the demo shop (otherwise agents do)",
        )

    def handle(self, *args, bot=False, **options):
        from kefu.bot.demo import load_bot_demo
        from kefu.commerce.demo import load_commerce_demo
        from kefu.compliance.demo import load_compliance_demo
        from kefu.knowledge.demo import load_demo_knowledge

        shop = load_demo()
        load_compliance_demo(shop)
        load_demo_knowledge(shop)
        load_commerce_demo(shop)
        settings = load_bot_demo(shop, enable=bot)
        self.stdout.write(f"Demo shop: {shop.name}  /shop/{shop.slug}/")
        self.stdout.write(f"Help center: /help/{shop.slug}/")
        state = "answers first" if settings.enabled else "off (kefu demo --bot turns it on)"
        self.stdout.write(f"Bot: {state}")
        self.stdout.write(f"Logins (password for all: {DEMO_PASSWORD}):")
        self.stdout.write("  admin        administrator (/admin/)")
        for username, name, role, _level, groups, _capacity in STAFF:
            self.stdout.write(f"  {username:<12} {name} · {role} · {', '.join(groups)}")

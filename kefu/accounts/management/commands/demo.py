from django.core.management.base import BaseCommand

from kefu.accounts.demo import DEMO_PASSWORD, STAFF, load_demo


class Command(BaseCommand):
    help = "Load the demo shop (idempotent) and print the demo logins."

    def handle(self, *args, **options):
        shop = load_demo()
        self.stdout.write(f"Demo shop: {shop.name}  /shop/{shop.slug}/")
        self.stdout.write(f"Logins (password for all: {DEMO_PASSWORD}):")
        self.stdout.write("  admin        administrator (/admin/)")
        for username, name, role, _level, groups, _capacity in STAFF:
            self.stdout.write(f"  {username:<12} {name} · {role} · {', '.join(groups)}")

import time

from django.core.management.base import BaseCommand

from kefu.realtime.publish import collecting, send_events_sync
from kefu.realtime.worker import run_sweeps


class Command(BaseCommand):
    help = "Run the idempotent sweeps (queue assignment) once, or forever as a worker."

    def add_arguments(self, parser):
        parser.add_argument("--forever", action="store_true")
        parser.add_argument("--every", type=float, default=5.0)

    def handle(self, *args, forever=False, every=5.0, **options):
        while True:
            result, events = collecting(run_sweeps)
            send_events_sync(events)
            self.stdout.write(str(result))
            if not forever:
                return
            time.sleep(every)

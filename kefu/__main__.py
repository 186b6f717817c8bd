"""The `kefu` command: Django's management commands with Kefu's settings."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kefu.settings.dev")
    from django.core.management import execute_from_command_line

    argv = sys.argv[:]
    argv[0] = "kefu"
    execute_from_command_line(argv)


if __name__ == "__main__":
    main()

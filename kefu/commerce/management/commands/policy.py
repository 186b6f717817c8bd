"""`kefu policy explain [--shop SLUG] [FILE]`

Reads one JSON after-sales request per line (stdin when no FILE) and writes
one JSON decision per non-empty line, in order, so a supervisor can test the
shop's settings. A line that is not a valid request (or not JSON) gets
`{"error": {"field": ..., "message": ...}}`; the exit status stays 0.

Without --shop: the default policy, and no database is opened (the shop
lookup is imported and run only for --shop)."""

from __future__ import annotations

import io
import json
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from kefu.commerce.policy import PolicyError, PolicySettings, explain_json

MAX_LINE_CHARS = 100_000


class Command(BaseCommand):
    help = "Explain the after-sales policy's decisions (one JSON line per request)."

    def add_arguments(self, parser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        explain = sub.add_parser("explain", help="decide the requests in FILE or stdin")
        explain.add_argument("file", nargs="?", help="input file (stdin when omitted)")
        explain.add_argument("--shop", help="the shop's slug (default: the default policy)")

    def handle(self, *args, **options) -> None:
        settings = PolicySettings()
        if options["shop"]:
            settings = _shop_settings(options["shop"])
        stream = _open(options["file"])
        try:
            for line in stream:
                if not line.strip():
                    continue
                result = decision_for(line, settings)
                self.stdout.write(json.dumps(result, ensure_ascii=False))
        except UnicodeDecodeError:
            raise CommandError(f"{options['file'] or 'stdin'}: not UTF-8 text") from None
        finally:
            if options["file"]:
                stream.close()


def decision_for(line: str, settings: PolicySettings) -> dict:
    """One input line → its decision or error object."""
    if len(line) > MAX_LINE_CHARS:
        return _error("request", f"longer than {MAX_LINE_CHARS} characters")
    try:
        data: Any = json.loads(line)
    except json.JSONDecodeError as error:
        return _error("request", f"not valid JSON: {error.msg} (column {error.colno})")
    return explain_json(data, settings)


def _error(field: str, message: str) -> dict:
    return {"error": {"field": field, "message": message}}


def _shop_settings(slug: str) -> PolicySettings:
    from kefu.commerce.policy import settings_for_shop
    from kefu.core.tabular import TableError, shop_for

    try:
        return settings_for_shop(shop_for(slug))
    except TableError as error:
        raise CommandError(str(error)) from None
    except PolicyError as error:
        raise CommandError(f"the shop's policy settings: {error}") from None


def _open(path: str | None):
    if path:
        try:
            return open(path, encoding="utf-8-sig")  # noqa: SIM115
        except OSError as error:
            raise CommandError(f"{path}: {error.strerror}") from None
    if hasattr(sys.stdin, "buffer"):
        return io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8-sig")
    return sys.stdin

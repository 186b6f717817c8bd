"""`kefu guard check [--shop SHOP] [--format auto|jsonl|text] [FILE]`

Screens messages in bulk (a shop's scripts and quick replies before an
import): one JSON line out per non-empty line in, in order, with spans as
character offsets into the original text. Without --shop: the shipped
default rules, no database needed.

`kefu guard install-defaults [--shop SHOP]` copies shipped rules a shop does
not have yet (after an upgrade); rules the shop has are left as it edited them."""

from __future__ import annotations

import dataclasses
import json
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from kefu.compliance.guard.context import NO_CONTEXT
from kefu.compliance.guard.defaults import default_guard

MAX_TEXT_CHARS = 20_000


class Command(BaseCommand):
    help = "Screen messages with the compliance guard (one JSON line per message)."

    def add_arguments(self, parser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        check = sub.add_parser("check", help="check messages from FILE or stdin")
        check.add_argument("file", nargs="?", help="input file (stdin when omitted)")
        check.add_argument("--shop", help="the shop's slug (default: the shipped rules)")
        check.add_argument("--format", choices=("auto", "jsonl", "text"), default="auto")
        check.add_argument("--language", default="zh-hans", help="language of the explanations")
        install = sub.add_parser(
            "install-defaults", help="add the shipped rules a shop does not have yet"
        )
        install.add_argument("--shop", help="the shop's slug (default: every shop)")

    def handle(self, *args, **options) -> None:
        if options["action"] == "install-defaults":
            self.install_defaults(options["shop"])
            return
        guard, context = default_guard(), NO_CONTEXT
        if options["shop"]:
            from kefu.compliance.actions import ensure_settings
            from kefu.compliance.guard import registry
            from kefu.core.tabular import shop_for

            try:
                shop = shop_for(options["shop"])
            except Exception as error:  # noqa: BLE001 - the message names the shop
                raise CommandError(str(error)) from None
            ensure_settings(shop)
            shop_guard = registry.shop_guard(shop.id)
            # Checked without a conversation: fact rules judge on the shop's
            # defaults and never block.
            guard = shop_guard.guard
            context = dataclasses.replace(shop_guard.context, facts=False)
        try:
            stream = (
                open(options["file"], encoding="utf-8-sig")  # noqa: SIM115
                if options["file"]
                else sys.stdin
            )
        except OSError as error:
            raise CommandError(f"{options['file']}: {error.strerror}") from None
        failed = 0
        out = self.stdout
        try:
            for number, line in enumerate(stream, 1):
                line = line.rstrip("\r\n")
                if not line.strip():
                    continue
                text, problem = _text_of(line, options["format"])
                if problem is None and len(text) > MAX_TEXT_CHARS:
                    problem = f"longer than {MAX_TEXT_CHARS} characters"
                if problem is not None:
                    failed += 1
                    out.write(_dump({"line": number, "error": problem}))
                    continue
                screening = guard.screen(text, context, language=options["language"])
                findings = [
                    {k: f[k] for k in ("rule", "severity", "span", "message", "suggestion")}
                    for f in screening.as_dicts()
                ]
                out.write(_dump({"text": text, "findings": findings}))
        except UnicodeDecodeError:
            raise CommandError(f"{options['file'] or 'stdin'}: not UTF-8 text") from None
        finally:
            if stream is not sys.stdin:
                stream.close()
        if failed:
            sys.exit(1)

    def install_defaults(self, slug: str | None) -> None:
        from kefu.compliance.actions import ensure_settings, install_default_rules

        for shop in _shops(slug):
            ensure_settings(shop)
            added = install_default_rules(shop)
            self.stdout.write(f"{shop.slug}: {added} rule(s) added")


def _shops(slug: str | None):
    from kefu.accounts.models import Shop

    shops = Shop.objects.order_by("id")
    if slug:
        shops = shops.filter(slug=slug)
        if not shops.exists():
            raise CommandError(f"no shop with the slug {slug!r}")
    return shops


def _text_of(line: str, fmt: str) -> tuple[str, str | None]:
    if fmt == "text" or (fmt == "auto" and not line.lstrip().startswith("{")):
        return line, None
    try:
        data: Any = json.loads(line)
    except json.JSONDecodeError as error:
        return "", f"not valid JSON: {error.msg} (column {error.colno})"
    if not isinstance(data, dict) or not isinstance(data.get("text"), str):
        return "", 'a JSON line must be an object with a "text" string'
    return data["text"], None


def _dump(obj: dict) -> str:
    return json.dumps(obj, ensure_ascii=False)

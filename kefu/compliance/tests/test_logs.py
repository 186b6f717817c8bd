"""Buyer data is masked in the logs, messages and tracebacks alike, by the
formatter the settings give the console handler."""

from __future__ import annotations

import logging

from django.conf import settings

from kefu.compliance.logs import MaskingFormatter


def test_the_console_handler_masks_buyer_data():
    assert settings.LOGGING["handlers"]["console"]["formatter"] == "masked"
    root = logging.getLogger()
    formatters = [handler.formatter for handler in root.handlers]
    assert any(isinstance(formatter, MaskingFormatter) for formatter in formatters)


def test_messages_and_tracebacks_are_masked():
    formatter = MaskingFormatter("%(message)s")
    record = logging.LogRecord(
        "kefu", logging.ERROR, __file__, 1, "ingest failed for %s", ("电话13812345678",), None
    )
    assert formatter.format(record) == "ingest failed for 电话138****5678"
    try:
        raise ValueError("身份证 11010519491231002X 地址 杭州市西湖区文三路90号")
    except ValueError:
        import sys

        record = logging.LogRecord("kefu", logging.ERROR, __file__, 1, "boom", (), sys.exc_info())
    text = formatter.format(record)
    assert "ValueError" in text and "11010519491231002X" not in text and "文三路90号" not in text

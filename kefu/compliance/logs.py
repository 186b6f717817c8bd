"""Buyers' phone numbers, ID numbers and addresses never reach the logs: the
console handler's formatter (settings.LOGGING) masks every formatted record,
message and traceback alike, as staff views are masked (138****5678)."""

from __future__ import annotations

import logging

from .privacy import mask_text


class MaskingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return mask_text(super().format(record))

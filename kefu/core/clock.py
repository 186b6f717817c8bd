"""Injected time: code that checks a deadline takes a clock instead of calling now()."""

from __future__ import annotations

import datetime as dt
from typing import Protocol

from django.utils import timezone


class Clock(Protocol):
    def now(self) -> dt.datetime: ...


class SystemClock:
    def now(self) -> dt.datetime:
        return timezone.now()


class FixedClock:
    """A clock for tests: stands still until advanced."""

    def __init__(self, at: dt.datetime | None = None) -> None:
        self.at = at or timezone.now()

    def now(self) -> dt.datetime:
        return self.at

    def advance(self, **delta: float) -> dt.datetime:
        self.at = self.at + dt.timedelta(**delta)
        return self.at


system_clock = SystemClock()

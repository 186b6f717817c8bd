"""Database helpers shared by the apps."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from typing import Any, TypeVar

from django.db import OperationalError, connection

T = TypeVar("T")
logger = logging.getLogger(__name__)

# PostgreSQL: deadlock detected, serialization failure.
CONFLICT_SQLSTATES = {"40P01", "40001"}


def is_conflict(error: Exception) -> bool:
    cause = error.__cause__
    return getattr(cause, "sqlstate", None) in CONFLICT_SQLSTATES or "database is locked" in str(
        error
    )


def retry_on_conflict(fn: Callable[..., T], *args: Any, attempts: int = 3, **kwargs: Any) -> T:
    """Run a transactional action again when the database aborted it for a lock
    conflict (a deadlock between two processes). Only for callers outside any
    transaction: the whole action is repeated, so nothing half-done remains."""
    for attempt in range(1, attempts + 1):
        try:
            return fn(*args, **kwargs)
        except OperationalError as error:
            if attempt == attempts or not is_conflict(error) or connection.in_atomic_block:
                raise
            logger.warning("retrying %s after a lock conflict: %s", fn.__name__, error)
            time.sleep(random.uniform(0.005, 0.05) * attempt)
    raise AssertionError("unreachable")

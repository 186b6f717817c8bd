import pytest
from django.db import OperationalError

from kefu.core.db import retry_on_conflict


class Deadlock(Exception):
    sqlstate = "40P01"


def conflict() -> OperationalError:
    error = OperationalError("deadlock detected")
    error.__cause__ = Deadlock()
    return error


def test_retries_a_deadlocked_action_then_succeeds():
    calls = []

    def action(value):
        calls.append(value)
        if len(calls) < 3:
            raise conflict()
        return value * 2

    assert retry_on_conflict(action, 21) == 42
    assert calls == [21, 21, 21]


def test_gives_up_after_the_attempts_and_never_retries_other_errors():
    calls = []

    def always_conflict():
        calls.append(1)
        raise conflict()

    with pytest.raises(OperationalError):
        retry_on_conflict(always_conflict, attempts=2)
    assert len(calls) == 2

    def broken():
        calls.append(2)
        raise OperationalError("no such table")

    with pytest.raises(OperationalError):
        retry_on_conflict(broken)
    assert calls.count(2) == 1

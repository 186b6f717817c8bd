import pytest

from kefu.core import ratelimit
from kefu.core.clock import FixedClock


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    ratelimit.reset()
    yield


@pytest.fixture
def clock():
    return FixedClock()

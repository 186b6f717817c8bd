import pytest

from kefu.core import ratelimit
from kefu.core.clock import FixedClock


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    ratelimit.reset()
    yield


@pytest.fixture(autouse=True)
def _fresh_model_caches():
    """Per-process caches are keyed by row ids, which repeat after a rollback."""
    from kefu.bot import training
    from kefu.compliance.guard import registry
    from kefu.knowledge import search

    training.clear_cache()
    search.reset_cache()
    registry.clear()
    yield


@pytest.fixture
def clock():
    return FixedClock()

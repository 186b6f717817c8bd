import datetime as dt

import pytest

from kefu.knowledge import actions, search
from kefu.tests import factories as f


@pytest.fixture(autouse=True)
def _fresh_search_cache():
    search.reset_cache()
    yield
    search.reset_cache()


@pytest.fixture
def shop(db):
    return f.make_shop(slug="warm-home", name="暖暖家纺")


@pytest.fixture
def supervisor(shop):
    return f.make_agent(shop, role="supervisor", status="offline", name="李主管")


@pytest.fixture
def agent(shop):
    return f.make_agent(shop, status="offline", name="小王")


@pytest.fixture
def other_shop(db):
    return f.make_shop(slug="other")


@pytest.fixture
def make_faq(shop, supervisor):
    def make(question="什么时候发货？", **fields):
        data = {
            "category": "物流",
            "question": question,
            "answer": "付款后 48 小时内发货。",
            "status": "published",
            **fields,
        }
        target = data.pop("shop", shop)
        return actions.save_faq(supervisor if target == shop else None, target, data)

    return make


TODAY = dt.date(2026, 6, 1)

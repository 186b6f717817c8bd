"""Fuzz every operation of the OpenAPI schema: no input may cause a server error."""

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings

from kefu.accounts import actions as account_actions
from kefu.inbox.connectors.widget import issue_token
from kefu.tests import factories as f

app = get_wsgi_application()
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)


@pytest.fixture
def keep_connection():
    """Like Django's test client: don't close the test transaction's connection."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def auth_header(db, keep_connection):
    shop = f.make_shop()
    f.make_agent(shop)
    f.open_conversation(shop, f.make_customer(shop))
    _token, raw = account_actions.create_api_token(shop, "fuzz")
    visitor_token, _visitor = issue_token(shop)
    return {"staff": f"Bearer {raw}", "visitor": f"Visitor {visitor_token}"}


@pytest.mark.django_db
@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_errors(case, auth_header):
    kind = "visitor" if "/widget/" in case.path else "staff"
    case.headers = {**(case.headers or {}), "Authorization": auth_header[kind]}
    response = case.call()
    assert response.status_code < 500, (case.method, case.path, response.status_code, response.text)

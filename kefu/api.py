"""The versioned JSON API at /api/v1/: authentication and error handling; each
app contributes a router of thin endpoints over its actions and queries."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, ValidationError
from ninja.security import APIKeyHeader, HttpBearer, django_auth

from kefu.accounts import actions as account_actions
from kefu.core.errors import ActionError
from kefu.inbox.connectors import widget


class ApiTokenAuth(HttpBearer):
    """An integrator's token (`Authorization: Bearer kf_…`), scoped to one shop."""

    openapi_scheme = "bearer"

    def authenticate(self, request: HttpRequest, token: str):
        api_token = account_actions.authenticate_api_token(token)
        if api_token is None:
            return None
        request.api_token = api_token  # type: ignore[attr-defined]
        return api_token


class VisitorAuth(APIKeyHeader):
    """The widget's signed visitor token (`Authorization: Visitor …`)."""

    param_name = "Authorization"

    def authenticate(self, request: HttpRequest, key: str | None):
        if not key or not key.startswith("Visitor "):
            return None
        try:
            visitor = widget.read_token(key.removeprefix("Visitor ").strip())
        except widget.InvalidToken:
            return None
        request.visitor = visitor  # type: ignore[attr-defined]
        return visitor


api = NinjaAPI(
    title="Kefu API",
    version="1",
    description="Conversations, messages, customers and agents of Kefu (客服).",
    urls_namespace="api-v1",
    docs_url="/docs",
    openapi_url="/openapi.json",
)

staff_auth = [django_auth, ApiTokenAuth()]
visitor_auth = [VisitorAuth()]


@api.exception_handler(ActionError)
def action_error(request, error: ActionError):
    return api.create_response(
        request,
        {"code": error.code, "detail": error.message, **(getattr(error, "payload", None) or {})},
        status=error.status,
    )


@api.exception_handler(AuthenticationError)
def auth_error(request, error):
    return api.create_response(
        request, {"code": "unauthenticated", "detail": "Authentication required."}, status=401
    )


@api.exception_handler(ValidationError)
def validation_error(request, error: ValidationError):
    return api.create_response(request, {"code": "invalid", "detail": error.errors}, status=422)


def register_routers() -> None:
    from kefu.accounts.api import router as accounts_router
    from kefu.bot.api import router as bot_router
    from kefu.bot.api import widget_router as bot_widget_router
    from kefu.commerce.api import router as commerce_router
    from kefu.commerce.api import widget_router as commerce_widget_router
    from kefu.commerce.api_sync import router as commerce_sync_router
    from kefu.compliance.api import router as compliance_router
    from kefu.compliance.api_privacy import router as privacy_router
    from kefu.customers.api import router as customers_router
    from kefu.inbox.api import router as inbox_router
    from kefu.inbox.api import widget_router
    from kefu.knowledge.api import router as knowledge_router
    from kefu.routing.api import router as routing_router

    api.add_router("/conversations", inbox_router, tags=["conversations"])
    api.add_router("/widget", widget_router, tags=["widget"])
    api.add_router("/customers", customers_router, tags=["customers"])
    api.add_router("/agents", accounts_router, tags=["agents"])
    api.add_router("/queues", routing_router, tags=["queues"])
    api.add_router("/knowledge", knowledge_router, tags=["knowledge"])
    api.add_router("/bot", bot_router, tags=["bot"])
    api.add_router("/widget/bot", bot_widget_router, tags=["widget"])
    api.add_router("/compliance", compliance_router, tags=["compliance"])
    api.add_router("/compliance", privacy_router, tags=["privacy"])
    api.add_router("/commerce/sync", commerce_sync_router, tags=["commerce"])
    api.add_router("/commerce", commerce_router, tags=["orders"])
    api.add_router("/widget/orders", commerce_widget_router, tags=["widget"])


register_routers()

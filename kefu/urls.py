from django.contrib import admin
from django.urls import include, path
from django.views.i18n import JavaScriptCatalog

from kefu.api import api

urlpatterns = [
    path("", include("kefu.inbox.urls")),
    path("accounts/", include("kefu.accounts.urls")),
    path("", include("kefu.knowledge.urls")),
    path("", include("kefu.bot.urls")),
    path("", include("kefu.compliance.urls")),
    path("", include("kefu.commerce.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
]

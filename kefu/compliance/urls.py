from django.urls import path

from . import views, views_audit

app_name = "compliance"

urlpatterns = [
    path("compliance/", views.overview, name="overview"),
    path("compliance/overrides/<int:override_id>/decide", views.decide, name="decide"),
    path("compliance/audit/", views_audit.audit_log, name="audit"),
]

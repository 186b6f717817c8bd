from django.urls import path

from . import views

app_name = "inbox"

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("workbench/", views.workbench, name="workbench"),
    path("shop/<slug:slug>/", views.demo_shop, name="demo-shop"),
    path("widget/<slug:slug>/session", views.widget_session, name="widget-session"),
]

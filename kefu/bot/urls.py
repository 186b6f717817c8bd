from django.urls import path

from . import views

app_name = "bot"

urlpatterns = [
    path("bot/gaps/", views.gap_report, name="gaps"),
    path("bot/gaps/draft", views.draft_from_gap, name="draft-from-gap"),
]

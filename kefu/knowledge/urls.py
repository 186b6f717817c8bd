from django.urls import path

from . import views

app_name = "knowledge"

urlpatterns = [
    path("help/<slug:shop_slug>/", views.help_center, name="help"),
    path("help/<slug:shop_slug>/faq/<int:faq_id>/", views.help_faq, name="help-faq"),
    path("knowledge/", views.knowledge_page, name="page"),
]

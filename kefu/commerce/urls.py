from django.urls import path

from . import views_cases, views_help, views_queues

app_name = "commerce"

urlpatterns = [
    path("commerce/queues/", views_queues.work_queues, name="queues"),
    path("commerce/queues/<int:task_id>/finish", views_queues.finish, name="finish_task"),
    path("commerce/after-sales/", views_cases.overview, name="cases"),
    path(
        "commerce/after-sales/<str:kind>/<int:item_id>/decide",
        views_cases.decide,
        name="decide",
    ),
    path("help/<slug:shop_slug>/orders/", views_help.find_orders, name="help-find"),
    path("help/<slug:shop_slug>/orders/mine/", views_help.my_orders, name="help-orders"),
    path(
        "help/<slug:shop_slug>/orders/<int:order_id>/after-sales/",
        views_help.after_sales,
        name="help-after-sales",
    ),
]

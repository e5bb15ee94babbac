"""The supervisor pages, included under supervision/ by config.urls."""

from django.urls import path

from escalation import evaluation_views, views

app_name = "escalation"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("orders/", views.order_list, name="orders"),
    path("orders/<int:pk>/", views.order_detail, name="order"),
    path("orders/<int:pk>/reply/", views.order_reply, name="order_reply"),
    path("orders/<int:pk>/close/", views.order_close, name="order_close"),
    path("tasks/<int:task_pk>/order/", views.order_open, name="order_open"),
    path("accountability/", views.ledger, name="ledger"),
    path("accountability/<int:pk>/", views.record_detail, name="record"),
    path("accountability/<int:pk>/notes/", views.record_annotate, name="record_annotate"),
    path("evaluation/", evaluation_views.rankings, name="evaluation"),
    path("evaluation/statistics/", evaluation_views.statistics_page, name="evaluation_statistics"),
    path("evaluation/problems/", evaluation_views.problems, name="evaluation_problems"),
    path("evaluation/problems/adopt/", evaluation_views.problem_adopt, name="evaluation_adopt"),
    path("evaluation/report/", evaluation_views.evaluation_report, name="evaluation_report"),
    path("evaluation/export/<slug:table>/", evaluation_views.evaluation_export, name="evaluation_export"),
]

from django.urls import path

from workbench import views

app_name = "workbench"

urlpatterns = [
    path("", views.home, name="home"),
    path("street/", views.street, name="street"),
    path("street/to-rate/", views.street_to_rate, name="to_rate"),
    path("department/", views.department, name="department"),
    path("department/tasks/<int:pk>/<slug:action>/", views.task_act, name="task_act"),
    path("supervisor/", views.supervisor, name="supervisor"),
]

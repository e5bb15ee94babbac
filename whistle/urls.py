from django.urls import path

from whistle import inbox_views, task_views, views

app_name = "whistle"

urlpatterns = [
    path("", views.landing, name="landing"),
    path("notifications/", inbox_views.inbox, name="inbox"),
    path("notifications/read/", inbox_views.inbox_read_all, name="inbox_read_all"),
    path("notifications/<int:pk>/open/", inbox_views.inbox_open, name="inbox_open"),
    path("tasks/", task_views.task_list, name="tasks"),
    path("tasks/extensions/", task_views.extension_list, name="extensions"),
    path("tasks/extensions/<int:pk>/decide/", task_views.extension_decide_view, name="extension_decide"),
    path("tasks/attachments/<int:pk>/", task_views.attachment_download, name="attachment"),
    path("tasks/<int:pk>/", task_views.task_detail, name="task"),
    path("tasks/<int:pk>/<slug:action>/", task_views.task_act, name="task_act"),
    path("whistles/", views.whistle_list, name="list"),
    path("whistles/queue/", views.whistle_queue, name="queue"),
    path("whistles/approvals/", views.whistle_approvals, name="approvals"),
    path("whistles/new/", views.whistle_new, name="new"),
    path("whistles/new/duplicates/", views.whistle_duplicates, name="duplicates"),
    path("whistles/new/attributes/", views.whistle_attribute_fields, name="attribute_fields"),
    path("whistles/grids.geojson", views.street_grids_geojson, name="grids_geojson"),
    path("whistles/<str:number>/", views.whistle_detail, name="detail"),
    path("whistles/<str:number>/step/<slug:step>/", views.whistle_step, name="step"),
    path("whistles/<str:number>/reject/", views.whistle_reject_view, name="reject"),
    path("whistles/<str:number>/dispatch/", views.whistle_dispatch_view, name="dispatch"),
    path("whistles/<str:number>/merge/", views.whistle_merge_view, name="merge"),
    path("whistles/<str:number>/confirm/", views.whistle_confirm_view, name="confirm"),
    path("whistles/<str:number>/reopen/", views.whistle_reopen_view, name="reopen"),
    path("whistles/<str:number>/rate/", views.whistle_rate_view, name="rate"),
    path("whistles/<str:number>/callback/", views.whistle_callback_view, name="callback"),
    path("whistles/<str:number>/meetings/", views.meeting_schedule_view, name="meeting_schedule"),
    path("meetings/<int:pk>/attend/", views.meeting_attend_view, name="meeting_attend"),
    path("meetings/<int:pk>/close/", views.meeting_close_view, name="meeting_close"),
    path("meetings/<int:pk>/cancel/", views.meeting_cancel_view, name="meeting_cancel"),
]

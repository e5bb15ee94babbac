from django.urls import path

from whistle import views

app_name = "whistle"

urlpatterns = [
    path("", views.landing, name="landing"),
    path("whistles/", views.whistle_list, name="list"),
    path("whistles/queue/", views.whistle_queue, name="queue"),
    path("whistles/approvals/", views.whistle_approvals, name="approvals"),
    path("whistles/new/", views.whistle_new, name="new"),
    path("whistles/new/duplicates/", views.whistle_duplicates, name="duplicates"),
    path("whistles/grids.geojson", views.street_grids_geojson, name="grids_geojson"),
    path("whistles/<str:number>/", views.whistle_detail, name="detail"),
    path("whistles/<str:number>/step/<slug:step>/", views.whistle_step, name="step"),
    path("whistles/<str:number>/reject/", views.whistle_reject_view, name="reject"),
    path("whistles/<str:number>/dispatch/", views.whistle_dispatch_view, name="dispatch"),
    path("whistles/<str:number>/merge/", views.whistle_merge_view, name="merge"),
]

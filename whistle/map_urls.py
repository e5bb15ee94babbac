"""The map of whistles on the grids, mounted at /map/ (config/urls.py)."""

from django.urls import path

from whistle import map_views

app_name = "map"

urlpatterns = [
    path("", map_views.map_page, name="overview"),
    path("grids.geojson", map_views.map_grids_geojson, name="grids"),
    path("whistles.geojson", map_views.map_whistles_geojson, name="whistles"),
    path("grids/<str:code>/whistles/", map_views.map_grid_whistles, name="grid_whistles"),
]

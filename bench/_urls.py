"""URLs of the API benchmark: the baseline endpoint, then every URL of the project.

Not a benchmark itself (the Makefile's `bench` target skips bench/_*.py).
"""

from django.urls import path

from bench.bare.api import BareCreateView
from config.urls import urlpatterns as project_urlpatterns

# First: config.urls answers any other address under api/ with its 404.
urlpatterns = [
    path("api/v1/bench-bare/", BareCreateView.as_view(), name="bench-bare"),
    *project_urlpatterns,
]

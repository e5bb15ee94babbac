"""Settings of the API benchmark (bench/api.py): the project's, plus the baseline app and its URL.

Not a benchmark itself (the Makefile's `bench` target skips bench/_*.py).
"""

from config.settings import *  # noqa: F403 - these settings are the project's, extended
from config.settings import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "bench.bare"]
ROOT_URLCONF = "bench._urls"

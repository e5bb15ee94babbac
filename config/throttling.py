"""The API's rate limits (REST_FRAMEWORK's DEFAULT_THROTTLE_CLASSES).

Kept apart from config.api: DRF imports its throttle classes while its own
views module loads, before config.api (which needs those views) can.
"""

import hashlib
import logging
import math
import time

from django.conf import settings
from django.core.cache import cache
from redis.exceptions import RedisError
from rest_framework import throttling

logger = logging.getLogger(__name__)


class ClientRateThrottle(throttling.BaseThrottle):
    """Requests per machine token, per signed-in user, per address for anyone else.

    A token is its own client (one user may hold a token for each system that
    calls in), so each has its own budget. Rates are the settings
    API_RATE_TOKEN, API_RATE_USER and API_RATE_ANON, read per request; beyond
    them the answer is 429 with Retry-After, in the one error shape.

    Fixed windows counted with the cache's atomic increment: every web process
    and host shares the count (the cache is Redis in production), and a
    request costs one round trip. A client may burst up to twice its rate
    across a window's edge; never more.
    """

    def allow_request(self, request, view):
        if request.auth is not None and hasattr(request.auth, "key"):
            scope, ident = "token", hashlib.sha256(request.auth.key.encode()).hexdigest()[:32]
        elif request.user and request.user.is_authenticated:
            scope, ident = "user", str(request.user.pk)
        else:
            scope, ident = "anon", self.get_ident(request)
        limit, seconds = getattr(settings, f"API_RATE_{scope.upper()}")
        if limit == 0:
            return True
        now = time.time()
        window = int(now // seconds)
        key = f"throttle:{scope}:{ident}:{seconds}:{window}"
        try:
            count = _count(key, seconds)
        except (OSError, RedisError):
            # The counts are gone, not the platform: the hotline's intake must not stop with the cache.
            logger.warning("API rate limit not applied: the cache does not answer", exc_info=True)
            return True
        self._wait = (window + 1) * seconds - now
        return count <= limit

    def wait(self):
        return max(1.0, math.ceil(self._wait))


def _count(key: str, seconds: int) -> int:
    """This window's requests so far, this one included."""
    # add() is a no-op when the key exists; incr() is atomic in Redis and in one process.
    cache.add(key, 0, timeout=seconds + 1)
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=seconds + 1)
        return 1

"""Helpers of the security settings: the client's address behind proxies, the tile server's CSP source, the lockout page.

Imported by config.settings, so nothing here reads Django's settings at import time.
"""

import math
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured


def client_ip(request) -> str | None:
    """The address failed sign-ins are counted against (django-axes' AXES_CLIENT_IP_CALLABLE).

    Directly on the network, the peer's address. Behind TRUSTED_PROXY_COUNT proxies, each of
    which appends the address it saw to X-Forwarded-For, the entry that many places from the
    right: the one the outermost proxy wrote. Entries further left come from the client and can
    be forged, so they are never read; a header shorter than expected (a request that bypassed
    the proxies) falls back to the peer's address.
    """
    from django.conf import settings

    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        forwarded = [part for part in forwarded if part]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR")


def tile_source(url: str) -> list[str]:
    """The img-src source of a Leaflet tile URL template: its scheme and host, or none for an empty URL.

    https://{s}.tiles.example.gov.cn/{z}/{x}/{y}.png → https://*.tiles.example.gov.cn (Leaflet's
    subdomain placeholder becomes CSP's wildcard, which stands for a whole leftmost label only).
    """
    if not url:
        return []
    parts = urlsplit(url)
    host = parts.netloc.rsplit("@", 1)[-1]
    if host.startswith("{s}."):
        host = "*." + host[len("{s}.") :]
    if parts.scheme not in {"http", "https"} or not host or "{" in host or "}" in host:
        raise ImproperlyConfigured(
            f"MAP_TILE_URL={url!r} must be an http(s) URL whose host is fixed, or starts with Leaflet's {{s}}."
        )
    return [f"{parts.scheme}://{host}"]


def proxy_ssl_header(value: list[str]) -> tuple[str, str] | None:
    """SECURE_PROXY_SSL_HEADER from "HTTP_X_FORWARDED_PROTO,https"; None when not set."""
    if not value:
        return None
    if len(value) != 2 or not value[0].startswith("HTTP_"):
        raise ImproperlyConfigured(
            f"SECURE_PROXY_SSL_HEADER={','.join(value)!r} must be a request.META header name and the value "
            "meaning HTTPS, e.g. HTTP_X_FORWARDED_PROTO,https."
        )
    return value[0], value[1]


def lockout_response(request, original_response=None, credentials=None):
    """The page for a sign-in refused by django-axes (AXES_LOCKOUT_CALLABLE): 429, in the site's layout."""
    from django.conf import settings
    from django.shortcuts import render

    minutes = max(1, math.ceil(settings.AXES_COOLOFF_TIME.total_seconds() / 60))
    return render(
        request,
        "registration/lockout.html",
        {"minutes": minutes, "failure_limit": settings.AXES_FAILURE_LIMIT},
        status=429,
    )

"""Container health check: exit 0 when the web server answers URL.

Any answer below 500 counts as alive (a 400 for a host name outside
ALLOWED_HOSTS or a 404 still proves the server is serving); a 5xx, a refused
connection or a time-out does not.

Usage: python scripts/healthcheck.py [URL]
"""

import sys
import urllib.error
import urllib.request

# The web server's own part of /healthz: a late beat or a stopped worker is no reason to restart it.
url = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000/healthz?checks=database"
try:
    with urllib.request.urlopen(url, timeout=5) as response:
        status = response.status
except urllib.error.HTTPError as exc:
    status = exc.code
except OSError as exc:
    print(f"{url}: {exc}", file=sys.stderr)
    sys.exit(1)
print(f"{url}: {status}")
sys.exit(0 if status < 500 else 1)

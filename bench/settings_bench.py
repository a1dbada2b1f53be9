"""Settings for bench/hello.py's gunicorn: the project's settings plus two benchmark-only routes.

* ``/bench/plain`` (any host that resolves to the public schema, e.g. ``localhost``): a Django view
  returning a small JsonResponse, routed through the project's full middleware stack, tenant
  resolution included (one Domain lookup).
* ``/bench/bare``: the same JsonResponse answered by a middleware placed first, before tenant
  resolution: no query, no other middleware (closest to a "plain Django JsonResponse").
"""

from config.settings import *  # noqa: F403
from config.settings import MIDDLEWARE

PUBLIC_SCHEMA_URLCONF = "bench.hello_app"
MIDDLEWARE = ["bench.hello_app.BareJsonMiddleware", *MIDDLEWARE]

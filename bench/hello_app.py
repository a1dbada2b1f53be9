"""Benchmark-only views for bench/hello.py (used through bench/settings_bench.py, never in the app)."""

from django.http import JsonResponse
from django.urls import path

from config.urls_public import urlpatterns as public_urlpatterns

PAYLOAD = {"message": "Hello, World!"}


def plain(request):
    return JsonResponse(PAYLOAD)


class BareJsonMiddleware:
    """Answers ``/bench/bare`` before any other middleware (no tenant lookup, no query)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path == "/bench/bare":
            return JsonResponse(PAYLOAD)
        return self.get_response(request)


# The public urlconf (platform host) plus the plain view.
urlpatterns = [path("bench/plain", plain, name="bench-plain"), *public_urlpatterns]

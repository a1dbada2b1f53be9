import json

from django.test import Client, override_settings


def test_healthz_reports_every_part_live(live_stack):
    status, body, _ = live_stack.get("localhost", "/healthz")
    data = json.loads(body)
    assert status == 200, data
    assert data["status"] == "ok"
    assert set(data["checks"]) == {"database", "cache", "broker", "celery"}
    assert data["checks"]["celery"]["workers"]


def test_healthz_is_503_when_the_cache_is_down(db):
    dead = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "KEY_FUNCTION": "django_tenants.cache.make_key",
            "OPTIONS": {"socket_connect_timeout": 0.5},
        }
    }
    with override_settings(CACHES=dead):  # Django resets its cache handler on this change
        response = Client().get("/healthz", HTTP_HOST="localhost")
    assert response.status_code == 503
    data = response.json()
    assert data["status"] == "fail"
    assert data["checks"]["cache"]["ok"] is False
    assert data["checks"]["database"]["ok"] is True

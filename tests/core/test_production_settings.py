"""Issue 8 item 5: production settings pass `check --deploy --fail-level WARNING`, and a
production process really redirects to HTTPS, sends HSTS and a CSP, trusts the proxy's
X-Forwarded-Proto and serves the API as JSON only. Development and tests stay on http."""

from __future__ import annotations

import json
import secrets
import subprocess
import sys

from cryptography.fernet import Fernet
from django.conf import settings
from rest_framework.renderers import BrowsableAPIRenderer
from rest_framework.settings import api_settings

from tests.conftest import PRODUCTION_SMS, ROOT, subprocess_env


def production_env(**extra) -> dict:
    env = subprocess_env(
        FENXIAO_ENV="production",
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(50),
        FIELD_ENCRYPTION_KEYS=Fernet.generate_key().decode(),
        FIELD_HASH_KEY=secrets.token_hex(32),
        WECHAT_EMULATOR_URL="",
        **{**PRODUCTION_SMS, **extra},
    )
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # the browser tests' setting, never a deployment's
    return env


def run(args: list[str], env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=180)


def test_check_deploy_passes_at_warning_level(django_db_setup):
    result = run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"], production_env())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout, result.stdout


PROBE = r"""
import json
import django
django.setup()
from django.conf import settings
from rest_framework.renderers import BrowsableAPIRenderer
from rest_framework.settings import api_settings
from django.test import Client

c = Client()
plain = c.get("/api/v1/store", HTTP_HOST="alpha.localhost")
secure = c.get("/api/v1/store", HTTP_HOST="alpha.localhost", HTTP_X_FORWARDED_PROTO="https", HTTP_ACCEPT="text/html,application/xhtml+xml,*/*;q=0.8")
health = c.get("/healthz", HTTP_HOST="localhost")
print(json.dumps({
    "renderers": settings.REST_FRAMEWORK["DEFAULT_RENDERER_CLASSES"],
    "plain": [plain.status_code, plain.get("Location", "")],
    "secure": [secure.status_code, secure["Content-Type"], secure.get("Strict-Transport-Security", ""),
               secure.get("Content-Security-Policy", ""), secure.get("X-Frame-Options", "")],
    "health": [health.status_code, health.get("Location", "")],
}))
"""


def test_a_production_process_redirects_to_https_and_sends_the_security_headers(tenant_a, committed):
    result = run([sys.executable, "-c", PROBE], production_env())
    assert result.returncode == 0, result.stderr[-3000:]
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["renderers"] == ["rest_framework.renderers.JSONRenderer"]  # no browsable API
    assert seen["plain"] == [301, "https://alpha.localhost/api/v1/store"]
    status, content_type, hsts, csp, xfo = seen["secure"]
    assert status == 200 and content_type == "application/json"  # a browser gets JSON too
    assert hsts == "max-age=31536000; includeSubDomains; preload"
    assert "frame-ancestors 'self'" in csp and "default-src 'self'" in csp
    assert xfo == "SAMEORIGIN"
    # The load balancer's plain-http probe is answered, not redirected (503: no worker here).
    assert seen["health"][0] in (200, 503) and not seen["health"][1]


def test_development_and_tests_stay_on_http():
    assert settings.SECURE_SSL_REDIRECT is False
    assert settings.SECURE_HSTS_SECONDS == 0
    assert settings.SECURE_PROXY_SSL_HEADER is None
    assert BrowsableAPIRenderer in api_settings.DEFAULT_RENDERER_CLASSES

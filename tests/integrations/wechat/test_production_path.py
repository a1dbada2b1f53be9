"""Real WeChat needs only settings: the web app and every WeChat client load without the emulator."""

import subprocess
import sys

from tests.conftest import ROOT, subprocess_env

PROBE = """
import sys
from config.wsgi import application
from django.urls import resolve, set_urlconf
import saas_platform.miniprogram.views, mall.payments.views, integrations.wechat.pay, integrations.wechat.open_platform
import integrations.wechat.miniprogram, saas_platform.miniprogram.console, mall.payments.actions
import config.urls_public, config.urls_tenant
from django.conf import settings
assert settings.WECHAT_PAY_BASE_URL == "https://api.mch.weixin.qq.com", settings.WECHAT_PAY_BASE_URL
assert settings.WECHAT_API_BASE_URL == "https://api.weixin.qq.com"
loaded = [m for m in sys.modules if m.startswith("tools.wechat_emulator")]
assert not loaded, loaded
print("clean")
"""


def test_no_emulator_code_on_the_production_path(django_db_setup):
    env = subprocess_env()
    for key in [k for k in env if k.startswith("WECHAT_")]:
        del env[key]
    out = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and "clean" in out.stdout, out.stderr[-2000:]

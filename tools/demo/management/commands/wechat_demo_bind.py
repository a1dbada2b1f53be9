"""Development only (`make run` calls it once the web app is up): give every store that has a
mini-program AppID an authorizer on the local WeChat emulator, through the real
query_auth exchange. Idempotent; does nothing unless WECHAT_EMULATOR_URL is set."""

import requests
from django.conf import settings
from django.core.management.base import BaseCommand

from saas_platform.miniprogram.actions import complete_authorization
from saas_platform.miniprogram.models import Authorizer, AuthorizerStatus
from tenants.models import Tenant


class Command(BaseCommand):
    help = "Bind the demo stores' mini-programs on the WeChat emulator (development only)."

    def handle(self, *args, **options):
        base = settings.WECHAT_EMULATOR_URL
        if not base:
            self.stdout.write("WECHAT_EMULATOR_URL is not set: nothing to do")
            return
        push = requests.post(f"{base}/_emulator/api/push-ticket", json={}, timeout=10).json()
        if push.get("status") != 200:
            self.stderr.write(f"the verify ticket did not reach us: {push}")
            return
        bound = 0
        for tenant in Tenant.objects.exclude(schema_name="public").exclude(wechat_appid=None):
            if Authorizer.objects.filter(appid=tenant.wechat_appid, status=AuthorizerStatus.AUTHORIZED).exists():
                continue
            answer = requests.post(
                f"{base}/_emulator/api/authorize",
                json={"appid": tenant.wechat_appid, "nickname": tenant.name, "push": False},
                timeout=10,
            ).json()
            complete_authorization(tenant=tenant, auth_code=answer["auth_code"])
            bound += 1
        self.stdout.write(f"WeChat emulator: {bound} demo mini-program(s) bound")

"""The merchant console's 绑定小程序 page: through the (emulated) scan-to-authorize page and back."""

import urllib.parse

import pytest
import requests
from django.db import connection
from django.test import Client
from django_tenants.utils import schema_context

from saas_platform.accounts.models import User
from tests.integrations.wechat.test_open_platform import bound_appid  # noqa: F401 (fixture)

pytestmark = pytest.mark.slow


def test_console_binds_the_mini_program_and_shows_it(emulator, wechat_web, wx_tenant, bound_appid, committed):  # noqa: F811
    host = "wxtest.localhost"
    client = Client()
    with schema_context(wx_tenant.schema_name):
        client.force_login(User.objects.get(platform_user_id=wx_tenant.owner_id))
    connection.set_schema_to_public()
    page = client.get("/console/wechat/", HTTP_HOST=host)
    assert page.status_code == 200
    start = client.get("/console/wechat/authorize/", HTTP_HOST=host)
    assert start.status_code == 302 and start["Location"].startswith(f"{emulator.url}/cgi-bin/componentloginpage?")
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(start["Location"]).query))
    assert query["redirect_uri"] == f"http://{host}/console/wechat/authorized/"
    scanned = requests.post(
        f"{emulator.url}/cgi-bin/componentloginpage",
        data={**query, "appid": bound_appid, "nickname": "微信测试店小程序"},
        allow_redirects=False,
        timeout=10,
    )
    back = urllib.parse.urlsplit(scanned.headers["Location"])
    done = client.get(f"{back.path}?{back.query}", HTTP_HOST=host, follow=True)
    text = done.content.decode()
    assert done.status_code == 200 and "已绑定小程序" in text and bound_appid in text and "已保存" in text
    # The staff console has no such page.
    assert Client().get("/staff/wechat/", HTTP_HOST="localhost").status_code in (302, 404)

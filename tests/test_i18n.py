from django.test import Client


def test_platform_pages_are_chinese_first_and_english_on_request(db):
    zh = Client().get("/", HTTP_HOST="localhost").content.decode()
    assert "当天上线的分销商城小程序" in zh
    en = Client().get("/", HTTP_HOST="localhost", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "live the same day" in en
    assert "当天上线" not in en


def test_api_errors_follow_the_users_language(db):
    zh = Client().get("/api/v1/products", HTTP_HOST="api.localhost").json()
    assert zh["error"]["message"] == "缺少请求头 X-WX-AppID。"
    en = Client().get("/api/v1/products", HTTP_HOST="api.localhost", HTTP_ACCEPT_LANGUAGE="en").json()
    assert en["error"]["message"] == "The X-WX-AppID header is missing."

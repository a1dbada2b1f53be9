"""Issue 8 item 4: one error shape under /api/, never a 500, Chinese first."""

import json

import pytest
from django.db import connection
from django.test import Client
from django.urls import path
from django_tenants.utils import schema_context

from mall.api.errors import flatten
from mall.api.views import StoreAPIMixin
from mall.catalog.models import Product
from mall.customers.actions import login_shopper

HOST = "alpha.localhost"


def assert_error(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "fields"}, body
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    if code:
        assert body["error"]["code"] == code, body
    return body["error"]


@pytest.fixture
def client(tenant_a, db):
    yield Client(HTTP_HOST=HOST)
    connection.set_schema_to_public()  # requests leave the store's schema active


@pytest.fixture
def shopper_token(tenant_a, db):
    from mall.api.auth import issue_token

    with schema_context(tenant_a.schema_name):
        return issue_token(login_shopper(openid="o-errors-test"))


@pytest.mark.parametrize(
    "url",
    ["/api/v1/nope", "/api/v1/products/abc", "/api/v1/products/", "/api/v1/store/", "/api/nothing", "/api/v1/"],
)
def test_unknown_paths_bad_ids_and_trailing_slashes_answer_json_404(client, url):
    for method in ("get", "post", "delete"):
        err = assert_error(getattr(client, method)(url), 404, "not_found")
        assert "接口不存在" in err["message"]


def test_ids_too_long_for_the_database_are_404_not_500(client):
    assert_error(client.get("/api/v1/products/99999999999999999999999"), 404, "not_found")
    assert_error(client.get("/api/v1/products/999999999999999999"), 404, "not_found")


def test_the_platform_host_answers_json_under_api_too(db):
    assert_error(Client(HTTP_HOST="localhost").get("/api/v1/products"), 404, "not_found")


def test_wrong_method_is_json_405(client):
    err = assert_error(client.delete("/api/v1/store"), 405, "method_not_allowed")
    assert "DELETE" in err["message"]


def test_body_over_one_megabyte_is_refused_before_parsing(client, shopper_token):
    big = json.dumps({"items": [{"product_id": 1, "quantity": 1}], "pad": "x" * (12 * 1024 * 1024)})
    err = assert_error(
        client.post(
            "/api/v1/orders", big, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {shopper_token}"
        ),
        413,
        "body_too_large",
    )
    assert "请求体过大" in err["message"]
    just_under = json.dumps({"code": "x" * 1000})
    assert client.post("/api/v1/auth/login", just_under, content_type="application/json").status_code == 400


def test_malformed_json_is_a_chinese_400_and_english_when_asked(client):
    err = assert_error(client.post("/api/v1/auth/login", "{bad", content_type="application/json"), 400, "parse_error")
    assert err["message"] == "请求体不是有效的 JSON。"
    err = assert_error(
        client.post("/api/v1/auth/login", "{bad", content_type="application/json", HTTP_ACCEPT_LANGUAGE="en"), 400
    )
    assert err["message"] == "The request body is not valid JSON."
    err = assert_error(client.post("/api/v1/auth/login", "NaN", content_type="application/json"), 400, "parse_error")


@pytest.mark.parametrize("depth", [40, 1000, 100_000])
def test_deeply_nested_json_is_400_not_500(client, shopper_token, depth):
    body = '{"items":' + "[" * depth + "]" * depth + "}"
    err = assert_error(
        client.post(
            "/api/v1/orders", body, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {shopper_token}"
        ),
        400,
        "parse_error",
    )
    assert "JSON" in err["message"] or "嵌套" in err["message"]


def test_only_json_bodies_are_accepted(client):
    resp = client.post("/api/v1/auth/login", {"code": "abc"})  # multipart form
    assert_error(resp, 415, "unsupported_media_type")


def test_nested_field_errors_are_flat_paths_with_plain_messages(client, shopper_token):
    resp = client.post(
        "/api/v1/orders",
        {
            "items": [
                {"product_id": 1, "quantity": 1},
                {"product_id": 1, "quantity": 0},
                {"quantity": "x"},
                {"quantity": 1},  # neither sku_id nor product_id
            ]
        },
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {shopper_token}",
    )
    err = assert_error(resp, 400, "invalid")
    assert set(err["fields"]) == {"items[1].quantity", "items[2].quantity", "items[3].sku_id"}, err["fields"]
    for messages in err["fields"].values():
        assert all(isinstance(m, str) and "ErrorDetail" not in m for m in messages)
    assert "ErrorDetail" not in resp.content.decode()
    assert "1" in err["fields"]["items[1].quantity"][0]  # "请确保该值大于或者等于 1。"
    empty = assert_error(
        client.post(
            "/api/v1/orders",
            {"items": []},
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {shopper_token}",
        ),
        400,
        "invalid",
    )
    assert list(empty["fields"]) == ["items"]


def test_flatten_handles_every_shape():
    assert flatten({"a": {"b": ["x"]}, "c": [{}, {"d": ["y"]}], "non_field_errors": ["z"]}) == {
        "a.b": ["x"],
        "c[1].d": ["y"],
        "non_field_errors": ["z"],
    }
    assert flatten(["only"]) == {"non_field_errors": ["only"]}
    assert flatten({"items": {0: {"quantity": ["q"]}, 2: {"non_field_errors": ["n"]}}}) == {
        "items[0].quantity": ["q"],
        "items[2]": ["n"],
    }


@pytest.mark.parametrize(
    "query, status",
    [
        ("limit=9223372036854775808", 200),
        ("limit=" + "9" * 90, 200),
        ("offset=9223372036854775808", 200),
        ("limit=-1", 400),
        ("limit=0", 400),
        ("limit=abc", 400),
        ("limit=1.5", 400),
        ("offset=-5", 400),
        ("offset=x", 400),
        ("limit=" + "9" * 5000, 400),
        ("limit=", 200),
    ],
)
def test_pagination_is_bounded_and_validated(client, tenant_a, query, status):
    with schema_context(tenant_a.schema_name):
        if not Product.objects.filter(title="分页商品 0").exists():
            Product.objects.bulk_create(Product(title=f"分页商品 {i}", price_fen=100 + i, stock=1) for i in range(105))
    resp = client.get(f"/api/v1/products?{query}")
    if status == 200:
        assert resp.status_code == 200
        assert len(resp.json()["results"]) <= 100
        if query.startswith("limit=9"):
            assert len(resp.json()["results"]) == 100
    else:
        err = assert_error(resp, 400, "invalid")
        assert set(err["fields"]) <= {"limit", "offset"} and err["fields"]


def test_unauthenticated_is_401_with_bearer_challenge(client):
    resp = client.get("/api/v1/orders")
    assert_error(resp, 401, "not_authenticated")
    assert resp["WWW-Authenticate"] == "Bearer"
    assert_error(client.get("/api/v1/orders", HTTP_AUTHORIZATION="Bearer forged"), 401, "authentication_failed")


def _explode(request):
    raise RuntimeError("boom")


def test_an_unexpected_error_is_a_json_500_under_api(client, settings):
    from rest_framework.views import APIView

    class BoomView(StoreAPIMixin, APIView):
        def get(self, request):
            raise RuntimeError("boom")

    import config.urls_tenant as base

    settings.ROOT_URLCONF = type(
        "urls",
        (),
        {
            "urlpatterns": [path("api/v1/boom", BoomView.as_view()), path("plain/boom", _explode)] + base.urlpatterns,
            "handler500": base.handler500,
            "handler404": base.handler404,
        },
    )
    client.raise_request_exception = False
    resp = client.get("/api/v1/boom")
    err = assert_error(resp, 500, "server_error")
    assert "boom" not in resp.content.decode()
    assert err["message"] == "服务器开小差了，请稍后再试。"
    html = client.get("/plain/boom")
    assert html.status_code == 500 and not html["Content-Type"].startswith("application/json")


def test_login_without_wechat_configured_is_503_not_500(client, settings):
    settings.WECHAT_COMPONENT_APPID = ""
    err = assert_error(
        client.post("/api/v1/auth/login", {"code": "abc"}, content_type="application/json"), 503, "wechat_unavailable"
    )
    assert err["message"] == "微信登录暂不可用，请稍后再试。"

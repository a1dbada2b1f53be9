"""/api/docs/ works offline: Swagger UI and its assets come from our own static files
(drf-spectacular-sidecar), never a CDN."""

import re
import urllib.parse

from django.db import connection
from django.test import Client

HOST = "alpha.localhost"


def test_api_docs_and_every_asset_they_reference_are_served_by_us(tenant_a, db):
    client = Client(HTTP_HOST=HOST)
    page = client.get("/api/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    refs = set(re.findall(r'(?:src|href)="([^"]+)"', html))
    assert refs, html
    for ref in refs:
        url = urllib.parse.urlsplit(ref)
        assert not url.netloc, f"{ref} is not served by the project"
    assets = {r for r in refs if r.startswith("/static/")}
    assert any(r.endswith("swagger-ui-bundle.js") for r in assets), refs
    assert any(r.endswith("swagger-ui.css") for r in assets), refs
    scripts = set(re.findall(r'<script[^>]*src="([^"]+)"', html))
    assert "<script>" not in html.replace(" ", ""), "no inline script: the CSP allows none"
    for ref in refs | scripts:
        resp = client.get(ref)
        body = b"".join(resp.streaming_content) if resp.streaming else resp.content
        assert resp.status_code == 200, (ref, resp.status_code)
        assert body, ref
    init = next(r for r in scripts if not r.startswith("/static/"))
    init_js = client.get(init).content.decode()
    assert "/api/schema/" in init_js and "SwaggerUIBundle" in init_js
    schema = client.get("/api/schema/?format=json").json()
    assert schema["components"]["securitySchemes"]["ShopperToken"] == {
        "type": "http",
        "scheme": "bearer",
        "description": schema["components"]["securitySchemes"]["ShopperToken"]["description"],
    }
    orders = schema["paths"]["/api/v1/orders"]
    assert orders["post"]["security"] == [{"ShopperToken": []}]
    for code in ("400", "401", "403", "404", "405", "413", "500"):
        assert orders["post"]["responses"][code]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/Error"
        }
    assert "413" not in schema["paths"]["/api/v1/store"]["get"]["responses"]
    assert "401" not in schema["paths"]["/api/v1/store"]["get"]["responses"]
    connection.set_schema_to_public()

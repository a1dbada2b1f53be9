"""The H5 storefront on the tenant host: ``/`` (a redirect to it once built) and ``/h5/``, the
uni-app client's H5 build (``storefront/dist/build/h5``, made by ``make storefront`` or
``make run``). One build serves every store: the client reads the store (chosen by host) from
``/api/v1/store`` and ``/api/v1/store/config``."""

from __future__ import annotations

import mimetypes
from pathlib import Path

from django.conf import settings
from django.db import connection
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from mall.catalog.selectors import shelf_products


def _h5_dir() -> Path:
    return Path(settings.STOREFRONT_H5_DIR)


def store_home(request):
    """The store's address: a server-rendered list of its products (readable without JavaScript)
    that links to the H5 storefront at /h5/."""
    return render(request, "storefront/home.html", {"store": connection.tenant, "products": shelf_products()[:40]})


def h5_app(request, path: str = ""):
    """``index.html`` (never cached: it names the current hashed assets) and the build's files
    (hashed names under ``assets/``: cached for a year)."""
    root = _h5_dir().resolve()
    if not (root / "index.html").is_file():
        return HttpResponse(
            _("H5 商城尚未构建：请运行 make storefront。"), status=503, content_type="text/plain; charset=utf-8"
        )
    target = (root / path).resolve() if path else root / "index.html"
    if root not in target.parents and target != root / "index.html":
        raise Http404
    if not target.is_file():
        if "." in Path(path).name:  # a missing file, not a client route
            raise Http404
        target = root / "index.html"
    content_type, encoding = mimetypes.guess_type(target.name)
    response = FileResponse(target.open("rb"), content_type=content_type or "application/octet-stream")
    if encoding:
        response["Content-Encoding"] = encoding
    if target.name == "index.html":
        response["Cache-Control"] = "no-cache"
    elif "assets" in target.relative_to(root).parts:
        response["Cache-Control"] = "public, max-age=31536000, immutable"
    else:
        response["Cache-Control"] = "public, max-age=3600"
    return response

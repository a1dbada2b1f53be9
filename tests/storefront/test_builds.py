"""The storefront's builds (made by `make storefront`, which `make test` runs first)."""

from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / "storefront" / "dist" / "build"
MAIN_PACKAGE_LIMIT = 2 * 1024 * 1024  # WeChat's limit for the main package


def test_mp_weixin_main_package_is_under_two_megabytes_with_promoter_pages_in_a_subpackage():
    mp = BUILD / "mp-weixin"
    assert (mp / "app.json").is_file(), "run `make storefront` first"
    app = json.loads((mp / "app.json").read_text(encoding="utf-8"))
    roots = {s["root"].strip("/") for s in app.get("subPackages", [])}
    assert "pkg-promoter" in roots
    assert not any(p.startswith("pkg-") for p in app["pages"])
    main = sum(f.stat().st_size for f in mp.rglob("*") if f.is_file() and f.relative_to(mp).parts[0] not in roots)
    assert 0 < main < MAIN_PACKAGE_LIMIT, main


def test_every_target_is_built_and_h5_is_served_under_h5():
    for target in ("h5", "mp-weixin", "mp-toutiao"):
        assert any((BUILD / target).iterdir()), target
    index = (BUILD / "h5" / "index.html").read_text(encoding="utf-8")
    assert "/h5/" in index  # asset URLs under the path Django serves
    assert "dcloud.net.cn" not in "".join(
        f.read_text(encoding="utf-8", errors="ignore") for f in (BUILD / "h5").rglob("*.js")
    )  # no third-party requests from the shopper's browser

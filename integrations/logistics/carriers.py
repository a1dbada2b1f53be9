"""The carriers a merchant can ship with: our code → the carrier's Chinese name (the codes are
the tracking API's own)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

CARRIERS: dict[str, str] = {
    "shunfeng": _("顺丰速运"),
    "zhongtong": _("中通快递"),
    "yuantong": _("圆通速递"),
    "yunda": _("韵达快递"),
    "shentong": _("申通快递"),
    "jtexpress": _("极兔速递"),
    "jd": _("京东物流"),
    "ems": _("邮政 EMS"),
    "youzhengguonei": _("邮政快递包裹"),
    "debangwuliu": _("德邦快递"),
}


def choices() -> list[tuple[str, str]]:
    return list(CARRIERS.items())


def name(code: str) -> str:
    return str(CARRIERS.get(code, code))


def is_known(code: str) -> bool:
    return code in CARRIERS

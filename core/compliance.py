"""Wording WeChat and the law forbid in merchant text (SPEC M7): checked where text enters.

The list is code, maintained here (house rule 6): add a term, and every screen and API that
saves merchant text refuses it from then on."""

from __future__ import annotations

BANNED_TERMS: tuple[str, ...] = (
    "无限代",
    "拉人头",
    "躺赚",
    "世袭佣金",
    "低风险",
    "零风险",
    "稳赚",
    "保本",
    "发展下线",
    "三级分销",
    "多级分销",
    "入门费",
)


def banned_terms_in(text: str) -> list[str]:
    """The banned terms that occur in ``text`` (ignoring spaces), in list order."""
    squeezed = "".join((text or "").split())
    return [t for t in BANNED_TERMS if t in squeezed]

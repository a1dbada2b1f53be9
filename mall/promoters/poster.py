"""Share posters (SPEC D2): a 750×1334 PNG drawn server-side with Pillow — the store's mark and
name, the product's cover, title and price, the promoter's invitation and a code that carries the
promoter: the mini-program code (``getwxacodeunlimit`` with the scene) when the store has a
mini-program, else a QR code of the H5 share link. Text is drawn with the system's CJK font
(Noto Sans CJK, installed with the browser tests' font); without it Pillow's default font is used
and the poster still renders."""

from __future__ import annotations

import io
import logging
from functools import lru_cache
from pathlib import Path

from django.utils.translation import gettext as _
from PIL import Image, ImageDraw, ImageFont

from core.money import format_yuan

log = logging.getLogger(__name__)

W, H = 750, 1334
RED = (228, 57, 60)
INK = (51, 51, 51)
GREY = (153, 153, 153)
FONT_PATHS = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
)


@lru_cache(maxsize=16)
def _font(size: int, bold: bool = False):
    paths = FONT_PATHS[1:2] + FONT_PATHS if bold else FONT_PATHS
    for path in paths:
        if Path(path).is_file():
            try:
                return ImageFont.truetype(path, size)
            except OSError:  # pragma: no cover (a broken font file)
                continue
    return ImageFont.load_default(size=size)


def _wrap(draw: ImageDraw.ImageDraw, text: str, font, width: int, lines: int) -> list[str]:
    """Break ``text`` (Chinese: any character may break) into at most ``lines`` lines."""
    out, line = [], ""
    for ch in text:
        if draw.textlength(line + ch, font=font) > width:
            out.append(line)
            line = ch
            if len(out) == lines:
                break
        else:
            line += ch
    else:
        out.append(line)
        return out[:lines]
    last = out[lines - 1]
    while last and draw.textlength(last + "…", font=font) > width:
        last = last[:-1]
    out[lines - 1] = last + "…"
    return out[:lines]


def _qr_png(data: str) -> bytes:
    import segno

    buf = io.BytesIO()
    segno.make(data, error="m").save(buf, kind="png", scale=8, border=2)
    return buf.getvalue()


def render(
    *,
    store_name: str,
    title: str,
    price_fen: int,
    cover: bytes | None,
    code_png: bytes | None,
    link: str,
    nickname: str,
    promoter_name: str,
    logo: bytes | None = None,
) -> bytes:
    """The poster as PNG bytes. ``code_png``: the mini-program code; None draws a QR of ``link``."""
    img = Image.new("RGB", (W, H), (255, 255, 255))
    d = ImageDraw.Draw(img)
    # header: the store's mark (its logo, else its first character in a red circle) and name
    d.rectangle((0, 0, W, 120), fill=(250, 250, 250))
    if logo:
        try:
            mark = Image.open(io.BytesIO(logo)).convert("RGB").resize((72, 72))
            img.paste(mark, (40, 24))
        except OSError:
            logo = None
    if not logo:
        d.ellipse((40, 24, 112, 96), fill=RED)
        initial = (store_name or "店")[0]
        f = _font(40, bold=True)
        d.text((76, 60), initial, font=f, fill=(255, 255, 255), anchor="mm")
    d.text((132, 60), store_name[:18], font=_font(34, bold=True), fill=INK, anchor="lm")
    # the product's cover, square
    box = (40, 150, W - 40, 150 + W - 80)
    if cover:
        try:
            pic = Image.open(io.BytesIO(cover)).convert("RGB")
            side = min(pic.size)
            left, top = (pic.width - side) // 2, (pic.height - side) // 2
            pic = pic.crop((left, top, left + side, top + side)).resize((box[2] - box[0], box[3] - box[1]))
            img.paste(pic, box[:2])
        except OSError:
            cover = None
    if not cover:
        d.rectangle(box, fill=(255, 240, 240))
        d.text(((box[0] + box[2]) // 2, (box[1] + box[3]) // 2), title[:1], font=_font(160, True), fill=RED,
               anchor="mm")  # fmt: skip
    y = box[3] + 30
    for line in _wrap(d, title, _font(36, True), W - 80, 2):
        d.text((40, y), line, font=_font(36, True), fill=INK)
        y += 52
    d.text((40, y + 6), format_yuan(price_fen), font=_font(52, True), fill=RED)
    # footer: the invitation and the code
    top = H - 300
    d.line((40, top, W - 40, top), fill=(238, 238, 238), width=2)
    d.text(
        (40, top + 50),
        (_("%(name)s 为你推荐") % {"name": (nickname or promoter_name)[:10]}),
        font=_font(32, True),
        fill=INK,
    )
    d.text((40, top + 110), _("长按识别小程序码") if code_png else _("长按识别二维码"), font=_font(28), fill=GREY)
    d.text((40, top + 160), _("进入店铺查看详情并下单"), font=_font(28), fill=GREY)
    code = code_png or _qr_png(link)
    try:
        qr = Image.open(io.BytesIO(code)).convert("RGB").resize((230, 230))
    except OSError:
        qr = Image.open(io.BytesIO(_qr_png(link))).convert("RGB").resize((230, 230))
    img.paste(qr, (W - 40 - 230, top + 35))
    out = io.BytesIO()
    img.save(out, format="PNG", optimize=True)
    return out.getvalue()

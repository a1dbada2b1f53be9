"""Distribution for shoppers and promoters (SPEC U5, U6, D1, D3; issue 11 point 7).

* ``GET /distribution``: the store's rules as a shopper must see them before joining (M7):
  the promoter name, levels, rates, settlement and withdrawal terms, the agreement and its
  version, and whether the logged-in shopper may apply.
* ``POST /distribution/touches``: a share-link click, QR scan or invite code (evidence of a
  binding; the store's rule decides whether it binds).
* ``POST /promoter/apply``; ``GET /promoter`` (the centre); ``GET /promoter/team``;
  ``GET /promoter/commissions``; ``GET /promoter/qrcode`` (mini-program code with scene);
  ``POST /promoter/withdrawals/preview``; ``GET|POST /promoter/withdrawals`` (the
  ``Idempotency-Key`` header makes a retried request return the first);
  ``GET /promoter/withdrawals/<id>`` (with ``package_info`` for ``wx.requestMerchantTransfer``
  while the transfer waits for the promoter's confirmation).
Everything is the logged-in shopper's own; another promoter's withdrawal id is a 404."""

from __future__ import annotations

import logging

from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, generics, serializers, status
from rest_framework.response import Response

from core.money import format_bps, format_yuan
from mall.api.auth import IsShopper, ShopperTokenAuthentication
from mall.api.customers import ShopperAPIView
from mall.api.errors import WeChatLoginUnavailable
from mall.api.views import APPID_PARAM, StoreAPIMixin
from mall.catalog.selectors import shelf_products
from mall.promoters import actions, selectors, withdrawals
from mall.promoters.binding import find_promoter, record_touch
from mall.promoters.models import DistributionSettings, Promoter, PromoterStatus, TouchSource, Withdrawal

log = logging.getLogger(__name__)


class ShopperListMixin(StoreAPIMixin):
    authentication_classes = [ShopperTokenAuthentication]
    permission_classes = [IsShopper]


# -- serializers ----------------------------------------------------------------------------------


class RulesSerializer(serializers.Serializer):
    enabled = serializers.BooleanField()
    promoter_name = serializers.CharField(help_text="本店对推广员的称呼（推广员 / 创客 / 推客 / 合伙人）")
    levels = serializers.IntegerField(help_text="分销层级（最多 2 级）")
    level1_rate = serializers.CharField()
    level2_rate = serializers.CharField()
    self_purchase = serializers.CharField()
    binding_rule = serializers.CharField()
    binding_days = serializers.IntegerField(help_text="绑定有效期（天），0 为永久")
    settle_days = serializers.IntegerField(help_text="订单完成后 T+N 天结算")
    withdraw_min_fen = serializers.IntegerField()
    withdraw_daily_count = serializers.IntegerField()
    withdraw_daily_fen = serializers.IntegerField()
    withdraw_fee_rule = serializers.CharField()
    agreement_text = serializers.CharField()
    agreement_version = serializers.IntegerField()
    can_apply = serializers.BooleanField()
    cannot_apply_reason = serializers.CharField()
    my_status = serializers.CharField(allow_null=True, help_text="我的推广员状态；不是推广员为 null")


class TouchSerializer(serializers.Serializer):
    source = serializers.ChoiceField(choices=[TouchSource.LINK, TouchSource.QR, TouchSource.INVITE_CODE])
    promoter_id = serializers.IntegerField(required=False, min_value=1, max_value=2**62)
    invite_code = serializers.CharField(required=False, max_length=12, allow_blank=False)
    scene = serializers.CharField(required=False, max_length=64, allow_blank=True, default="")
    device = serializers.CharField(required=False, max_length=64, allow_blank=True, default="", help_text="设备指纹")

    def validate(self, attrs):
        if not attrs.get("promoter_id") and not attrs.get("invite_code"):
            raise serializers.ValidationError({"promoter_id": [_("请提供推广员或邀请码。")]})
        return attrs


class TouchResultSerializer(serializers.Serializer):
    touch_id = serializers.IntegerField()
    bound = serializers.BooleanField(help_text="当前是否已绑定推广员")
    bound_promoter_id = serializers.IntegerField(allow_null=True)
    expires_at = serializers.DateTimeField(allow_null=True)


class ApplySerializer(serializers.Serializer):
    agreement_version = serializers.IntegerField(min_value=1, max_value=2**31, help_text="已阅读并同意的协议版本")
    invite_code = serializers.CharField(required=False, max_length=12, allow_blank=True, default="")


class CentreSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField()
    status_display = serializers.CharField()
    promoter_name = serializers.CharField()
    invite_code = serializers.CharField()
    grade = serializers.CharField(allow_null=True)
    pending_fen = serializers.IntegerField(help_text="待结算")
    available_fen = serializers.IntegerField(help_text="可提现（为负表示欠款）")
    inflight_fen = serializers.IntegerField(help_text="提现中")
    withdrawn_fen = serializers.IntegerField(help_text="已提现")
    owed_fen = serializers.IntegerField(help_text="欠款（结算后退款扣回超过余额的部分，从后续佣金中抵扣）")
    total_earned_fen = serializers.IntegerField(help_text="累计佣金（待结算 + 已结算）")
    sales_fen = serializers.IntegerField()
    team = serializers.DictField(child=serializers.IntegerField())
    share_path = serializers.CharField(help_text="分享链接（小程序页面路径，带推广员参数）")
    share_h5_url = serializers.CharField(help_text="H5 分享链接")
    parent_nickname = serializers.CharField(allow_blank=True)


class TeamMemberSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    nickname = serializers.CharField()
    level = serializers.IntegerField()
    grade = serializers.CharField(allow_null=True)
    joined_at = serializers.DateTimeField()


class CommissionSerializer(serializers.Serializer):
    order_no = serializers.CharField()
    title = serializers.CharField()
    sku_name = serializers.CharField()
    level = serializers.IntegerField()
    rate = serializers.CharField(help_text="比例（或每件固定金额）")
    base_fen = serializers.IntegerField(help_text="计佣金额：该行实付（扣除退款，不含运费）")
    amount_fen = serializers.IntegerField()
    cut_fen = serializers.IntegerField(help_text="因 30% 封顶扣减的金额")
    settled = serializers.BooleanField()
    created = serializers.DateTimeField()


class PreviewInSerializer(serializers.Serializer):
    amount_fen = serializers.IntegerField(min_value=1, max_value=10**12)


class PreviewSerializer(serializers.Serializer):
    amount_fen = serializers.IntegerField()
    fee_fen = serializers.IntegerField()
    net_fen = serializers.IntegerField()
    available_fen = serializers.IntegerField()
    min_fen = serializers.IntegerField()
    daily_count_left = serializers.IntegerField()
    daily_fen_left = serializers.IntegerField()
    auto_review = serializers.BooleanField()


class WithdrawalSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    amount_fen = serializers.IntegerField()
    fee_fen = serializers.IntegerField()
    net_fen = serializers.IntegerField()
    status = serializers.CharField()
    status_display = serializers.CharField()
    package_info = serializers.CharField(help_text="待确认收款时，wx.requestMerchantTransfer 所需的 package")
    failure = serializers.CharField()
    created = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)


# -- payloads ---------------------------------------------------------------------------------------


def _fee_rule(ds: DistributionSettings) -> str:
    if not ds.withdraw_fee_bps:
        return _("免手续费")
    return _("%(free)s 以下免手续费，以上收取 %(rate)s") % {
        "free": format_yuan(ds.withdraw_fee_free_under_fen),
        "rate": format_bps(ds.withdraw_fee_bps),
    }


def _my_promoter(customer) -> Promoter:
    p = Promoter.objects.select_related("grade", "parent__customer").filter(customer=customer).first()
    if p is None or p.status in (PromoterStatus.PENDING, PromoterStatus.REJECTED):
        raise exceptions.NotFound(_("你还不是推广员。"))
    return p


def centre_payload(p: Promoter, ds: DistributionSettings) -> dict:
    return {
        "id": p.pk,
        "status": p.status,
        "status_display": p.get_status_display(),
        "promoter_name": ds.promoter_name,
        "invite_code": p.invite_code,
        "grade": p.grade.name if p.grade_id else None,
        "pending_fen": p.pending_fen,
        "available_fen": p.available_fen,
        "inflight_fen": p.inflight_fen,
        "withdrawn_fen": p.withdrawn_fen,
        "owed_fen": p.owed_fen,
        "total_earned_fen": p.pending_fen + p.settled_fen,
        "sales_fen": p.sales_fen,
        "team": selectors.team_counts(p),
        "share_path": f"pages/index/index?pid={p.pk}",
        "share_h5_url": connection.tenant.absolute_url(f"/h5/#/pages/index/index?pid={p.pk}"),
        "parent_nickname": p.parent.customer.nickname if p.parent_id else "",
    }


def withdrawal_payload(w: Withdrawal) -> dict:
    from mall.promoters.models import WithdrawalStatus

    return {
        "id": w.pk,
        "amount_fen": w.amount_fen,
        "fee_fen": w.fee_fen,
        "net_fen": w.net_fen,
        "status": w.status,
        "status_display": w.get_status_display(),
        "package_info": w.package_info if w.status == WithdrawalStatus.WAIT_USER else "",
        "failure": w.failure,
        "created": w.created,
        "finished_at": w.finished_at,
    }


# -- views ------------------------------------------------------------------------------------------


@extend_schema(parameters=[APPID_PARAM], responses=RulesSerializer, summary="分销规则与申请条件")
class RulesView(ShopperAPIView):
    def get(self, request):
        ds = DistributionSettings.current()
        ok, why = actions.eligibility(request.user, ds)
        mine = Promoter.objects.filter(customer=request.user).values_list("status", flat=True).first()
        if mine and mine not in (PromoterStatus.REJECTED,):
            ok, why = False, _("你已经提交过申请或已经是推广员。")
        data = {
            "enabled": ds.enabled,
            "promoter_name": ds.promoter_name,
            "levels": ds.levels,
            "level1_rate": format_bps(ds.level1_bps),
            "level2_rate": format_bps(ds.level2_bps) if ds.levels >= 2 else "",
            "self_purchase": ds.get_self_purchase_display(),
            "binding_rule": ds.get_binding_rule_display(),
            "binding_days": ds.binding_days,
            "settle_days": ds.settle_days,
            "withdraw_min_fen": ds.withdraw_min_fen,
            "withdraw_daily_count": ds.withdraw_daily_count,
            "withdraw_daily_fen": ds.withdraw_daily_fen,
            "withdraw_fee_rule": _fee_rule(ds),
            "agreement_text": ds.agreement_text,
            "agreement_version": ds.agreement_version,
            "can_apply": ok,
            "cannot_apply_reason": why,
            "my_status": mine,
        }
        return Response(data)


def _client_ip(request) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


@extend_schema(
    parameters=[APPID_PARAM], request=TouchSerializer, responses={201: TouchResultSerializer}, summary="记录推广触达"
)
class TouchView(ShopperAPIView):
    def post(self, request):
        data = TouchSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        promoter = find_promoter(invite_code=v.get("invite_code", ""), promoter_id=v.get("promoter_id"))
        touch, binding = record_touch(
            customer=request.user,
            promoter=promoter,
            source=v["source"],
            scene=v["scene"],
            device=v["device"],
            ip=_client_ip(request),
        )
        return Response(
            {
                "touch_id": touch.pk,
                "bound": binding is not None,
                "bound_promoter_id": binding.promoter_id if binding else None,
                "expires_at": binding.expires_at if binding else None,
            },
            status=status.HTTP_201_CREATED,
        )


@extend_schema(
    parameters=[APPID_PARAM], request=ApplySerializer, responses={201: CentreSerializer}, summary="申请成为推广员"
)
class ApplyView(ShopperAPIView):
    def post(self, request):
        data = ApplySerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        p = actions.apply(customer=request.user, agreement_version=v["agreement_version"], invite_code=v["invite_code"])
        return Response(centre_payload(p, DistributionSettings.current()), status=status.HTTP_201_CREATED)


@extend_schema(parameters=[APPID_PARAM], responses=CentreSerializer, summary="推广中心")
class CentreView(ShopperAPIView):
    def get(self, request):
        p = _my_promoter(request.user)
        return Response(centre_payload(p, DistributionSettings.current()))


@extend_schema(parameters=[APPID_PARAM], summary="我的团队（两级）")
class TeamView(ShopperListMixin, generics.ListAPIView):
    serializer_class = TeamMemberSerializer

    def get_queryset(self):
        return selectors.team(_my_promoter(self.request.user))

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        rows = [
            {
                "id": m.pk,
                "nickname": m.customer.nickname,
                "level": m.level,
                "grade": m.grade.name if m.grade_id else None,
                "joined_at": m.joined_at,
            }
            for m in page
        ]
        return self.get_paginated_response(TeamMemberSerializer(rows, many=True).data)


@extend_schema(parameters=[APPID_PARAM], summary="佣金明细（按订单行）")
class CommissionListView(ShopperListMixin, generics.ListAPIView):
    serializer_class = CommissionSerializer

    def get_queryset(self):
        return selectors.commissions_of(_my_promoter(self.request.user))

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        rows = [
            {
                "order_no": lc.order.order_no,
                "title": lc.line.title,
                "sku_name": lc.line.sku_name,
                "level": lc.level,
                "rate": (format_yuan(lc.unit_fen) + "/件" if lc.unit_fen is not None else "")
                + (format_bps(lc.rate_bps) if lc.rate_bps or lc.unit_fen is None else ""),
                "base_fen": lc.base_fen,
                "amount_fen": lc.target_fen,
                "cut_fen": lc.cut_fen,
                "settled": lc.settled,
                "created": lc.created,
            }
            for lc in page
        ]
        return self.get_paginated_response(CommissionSerializer(rows, many=True).data)


@extend_schema(
    parameters=[APPID_PARAM],
    responses={200: OpenApiResponse(description="PNG 图片（小程序码，scene 为 pid=推广员 ID）")},
    summary="我的推广小程序码",
)
class QrCodeView(ShopperAPIView):
    extra_error_codes = (503,)

    def get(self, request):
        p = _my_promoter(request.user)
        appid = connection.tenant.wechat_appid
        if not appid:
            raise exceptions.ValidationError({"appid": [_("店铺尚未绑定小程序。")]})
        from integrations.wechat.errors import WeChatError
        from integrations.wechat.miniprogram import MiniProgramClient

        try:
            png = MiniProgramClient(appid).wxacode_unlimited(scene=f"pid={p.pk}", page="pages/index/index")
        except (ImproperlyConfigured, WeChatError):
            raise WeChatLoginUnavailable()
        return HttpResponse(png, content_type="image/png")


SHARE_PRODUCT = OpenApiParameter("product_id", int, description="要分享的商品 ID（不填：分享店铺首页）")


def _share_target(request):
    """(product or None, mini-program page, its scene, the H5 link) for the promoter's share."""
    raw = request.query_params.get("product_id", "").strip()
    product = None
    if raw:
        if not raw.isascii() or not raw.isdigit() or len(raw) > 18:
            raise exceptions.ValidationError({"product_id": [_("商品 ID 须为数字。")]})
        product = shelf_products().filter(pk=int(raw)).first()
        if product is None:
            raise exceptions.ValidationError({"product_id": [_("商品不存在或已下架。")]})
    return product


def _share_links(p: Promoter, product) -> dict:
    if product is not None:
        page, query = "pages/product/index", f"id={product.pk}&pid={p.pk}"
        scene = f"g={product.pk}&p={p.pk}"
    else:
        page, query, scene = "pages/index/index", f"pid={p.pk}", f"p={p.pk}"
    return {
        "path": f"{page}?{query}",
        "page": page,
        "scene": scene,
        "h5_url": connection.tenant.absolute_url(f"/h5/#/{page}?{query}"),
    }


@extend_schema(
    parameters=[APPID_PARAM, OpenApiParameter("product_id", int, required=True, description="商品 ID")],
    responses=OpenApiTypes.OBJECT,
    summary="我分享该商品可得的佣金（按规格预估）",
    description="按本店规则（推广员专属 > 商品 > 分类 > 全局，再加等级加成）和 30% 封顶，估算一件商品"
    "按原价售出时我的一级佣金。实际佣金以付款时的实付金额为准。",
)
class EstimateView(ShopperAPIView):
    def get(self, request):
        from mall.promoters.commission import line_rate
        from mall.promoters.rules import line_amounts

        p = _my_promoter(request.user)
        product = _share_target(request)
        if product is None:
            raise exceptions.ValidationError({"product_id": [_("请指定商品。")]})
        ds = DistributionSettings.current()
        if not ds.enabled or not product.is_distributable:
            return Response({"product_id": product.pk, "distributable": False, "skus": []})
        product = type(product).objects.select_related("category__parent").get(pk=product.pk)
        rates = {1: line_rate(level=1, promoter=p, product=product, ds=ds)}
        if ds.levels >= 2:
            rates[2] = line_rate(level=2, promoter=p, product=product, ds=ds)
        skus = [(s.pk, s.name, s.price_fen) for s in product.skus.filter(is_active=True)] or [
            (None, "", product.price_fen)
        ]
        rows = []
        for sku_id, name, price in skus:
            got = line_amounts(net_fen=price, units=1, rates=rates)
            rows.append(
                {
                    "sku_id": sku_id,
                    "name": name,
                    "price_fen": price,
                    "level1_fen": got[1].amount_fen,
                    "level1_display": format_yuan(got[1].amount_fen),
                }
            )
        r1 = rates[1]
        rate_display = format_bps(r1.bps) if not r1.unit_fen else _("每件 %(a)s") % {"a": format_yuan(r1.unit_fen)}
        return Response({"product_id": product.pk, "distributable": True, "rate_display": rate_display, "skus": rows})


@extend_schema(parameters=[APPID_PARAM, SHARE_PRODUCT], responses=OpenApiTypes.OBJECT, summary="分享链接")
class ShareView(ShopperAPIView):
    def get(self, request):
        p = _my_promoter(request.user)
        product = _share_target(request)
        body = _share_links(p, product)
        body["title"] = product.title if product else connection.tenant.name
        return Response(body)


@extend_schema(
    parameters=[APPID_PARAM, SHARE_PRODUCT],
    responses={(200, "image/png"): OpenApiTypes.BINARY},
    summary="分享海报（PNG：商品图、价格、小程序码，店铺标识）",
)
class PosterView(ShopperAPIView):
    def get(self, request):
        from mall.promoters import poster

        p = _my_promoter(request.user)
        product = _share_target(request)
        links = _share_links(p, product)
        tenant = connection.tenant
        code = None
        if tenant.wechat_appid:  # the mini-program code; without a mini-program, a QR of the H5 link
            from integrations.wechat.errors import WeChatError
            from integrations.wechat.miniprogram import MiniProgramClient

            try:
                code = MiniProgramClient(tenant.wechat_appid).wxacode_unlimited(
                    scene=links["scene"], page=links["page"]
                )
            except (ImproperlyConfigured, WeChatError):
                log.warning("poster: no mini-program code for promoter %s; drawing the H5 QR code", p.pk)
        cover = None
        if product is not None and product.cover:
            try:
                with product.cover.open("rb") as fh:
                    cover = fh.read()
            except OSError:
                log.warning("poster: cover of product %s unreadable", product.pk)
        png = poster.render(
            store_name=tenant.name,
            title=product.title if product else tenant.name,
            price_fen=(product.price_fen if product else 0),
            cover=cover,
            code_png=code,
            link=links["h5_url"],
            nickname=request.user.nickname,
            promoter_name=DistributionSettings.current().promoter_name,
        )
        response = HttpResponse(png, content_type="image/png")
        response["Cache-Control"] = "private, max-age=300"
        return response


@extend_schema(
    parameters=[APPID_PARAM], request=PreviewInSerializer, responses=PreviewSerializer, summary="提现试算（手续费）"
)
class WithdrawalPreviewView(ShopperAPIView):
    def post(self, request):
        data = PreviewInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        p = _my_promoter(request.user)
        return Response(withdrawals.preview(promoter=p, amount_fen=data.validated_data["amount_fen"]))


IDEMPOTENCY = OpenApiParameter(
    "Idempotency-Key",
    str,
    OpenApiParameter.HEADER,
    required=False,
    description="重试同一请求时带相同的值，只会提现一次",
)


@extend_schema(parameters=[APPID_PARAM])
class WithdrawalListView(ShopperListMixin, generics.ListAPIView):
    serializer_class = WithdrawalSerializer

    def get_queryset(self):
        return selectors.withdrawals_of(_my_promoter(self.request.user))

    @extend_schema(summary="提现记录")
    def get(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(WithdrawalSerializer([withdrawal_payload(w) for w in page], many=True).data)

    @extend_schema(
        parameters=[IDEMPOTENCY],
        request=PreviewInSerializer,
        responses={201: WithdrawalSerializer},
        summary="申请提现（微信商家转账，需在小程序内确认收款）",
    )
    def post(self, request):
        data = PreviewInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        key = request.headers.get("Idempotency-Key", "").strip()
        if len(key) > 64:
            raise exceptions.ValidationError({"Idempotency-Key": [_("Idempotency-Key 最长 64 个字符。")]})
        p = _my_promoter(request.user)
        w = withdrawals.request_withdrawal(
            promoter=p, amount_fen=data.validated_data["amount_fen"], idempotency_key=key
        )
        return Response(withdrawal_payload(w), status=status.HTTP_201_CREATED)


WITHDRAWAL_ID = OpenApiParameter("pk", int, OpenApiParameter.PATH, description="提现 ID")


@extend_schema(parameters=[APPID_PARAM, WITHDRAWAL_ID], responses=WithdrawalSerializer, summary="提现详情")
class WithdrawalDetailView(ShopperAPIView):
    def get(self, request, pk: int):
        p = _my_promoter(request.user)
        return Response(withdrawal_payload(get_object_or_404(Withdrawal, promoter=p, pk=pk)))

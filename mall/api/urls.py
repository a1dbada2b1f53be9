from django.urls import path, re_path, register_converter

from mall.api import aftersales, catalog, checkout, customers, distribution, payments, shipping, views
from mall.api.errors import not_found


class IdConverter:
    """A database id: 1–18 digits (a longer number can be no row, and would overflow bigint)."""

    regex = "[0-9]{1,18}"

    def to_python(self, value):
        return int(value)

    def to_url(self, value):
        return str(value)


register_converter(IdConverter, "id")

app_name = "api"
urlpatterns = [
    path("store", views.StoreView.as_view(), name="store"),
    path("store/config", views.StoreConfigView.as_view(), name="store-config"),
    path("categories", catalog.CategoryTreeView.as_view(), name="categories"),
    path("products", catalog.ProductListView.as_view(), name="products"),
    path("products/<id:pk>", catalog.ProductDetailView.as_view(), name="product"),
    path("products/<id:pk>/contract", catalog.ContractView.as_view(), name="product-contract"),
    path("products/<id:pk>/contract/accept", catalog.ContractAcceptView.as_view(), name="product-contract-accept"),
    path("auth/login", views.LoginView.as_view(), name="login"),
    path("auth/sms-code", views.SmsCodeView.as_view(), name="sms-code"),
    path("auth/sms-login", views.SmsLoginView.as_view(), name="sms-login"),
    path("orders", views.OrdersView.as_view(), name="orders"),
    path("orders/<str:order_no>", checkout.OrderDetailView.as_view(), name="order"),
    path("orders/<str:order_no>/cancel", checkout.OrderCancelView.as_view(), name="order-cancel"),
    path("cart", checkout.CartView.as_view(), name="cart"),
    path("cart/<id:sku_id>", checkout.CartItemView.as_view(), name="cart-item"),
    path("checkout/quote", checkout.QuoteView.as_view(), name="checkout-quote"),
    path("orders/<str:order_no>/tracking", shipping.OrderTrackingView.as_view(), name="order_tracking"),
    path("orders/<str:order_no>/confirm-receipt", shipping.ConfirmReceiptView.as_view(), name="order_confirm_receipt"),
    # Any segment (the view answers 404 for no order of this shopper): a malformed number gets
    # the same JSON 404, never the catch-all's CSRF refusal of a POST.
    path("orders/<str:order_no>/pay", payments.PayOrderView.as_view(), name="order-pay"),
    path("orders/<str:order_no>/refunds", aftersales.OrderRefundsView.as_view(), name="order-refunds"),
    path("refunds", aftersales.RefundListView.as_view(), name="refunds"),
    path("refunds/<str:out_refund_no>", aftersales.RefundDetailView.as_view(), name="refund"),
    path(
        "refunds/<str:out_refund_no>/return-tracking",
        aftersales.ReturnTrackingView.as_view(),
        name="refund-return-tracking",
    ),
    path(
        "refunds/<str:out_refund_no>/withdraw",
        aftersales.WithdrawRefundView.as_view(),
        name="refund-withdraw",
    ),
    path("me", customers.MeView.as_view(), name="me"),
    path("me/phone", customers.BindPhoneView.as_view(), name="me-phone"),
    path("addresses", customers.AddressListView.as_view(), name="addresses"),
    path("addresses/<id:pk>", customers.AddressDetailView.as_view(), name="address"),
    path("distribution", distribution.RulesView.as_view(), name="distribution"),
    path("distribution/touches", distribution.TouchView.as_view(), name="distribution-touches"),
    path("promoter", distribution.CentreView.as_view(), name="promoter"),
    path("promoter/apply", distribution.ApplyView.as_view(), name="promoter-apply"),
    path("promoter/team", distribution.TeamView.as_view(), name="promoter-team"),
    path("promoter/commissions", distribution.CommissionListView.as_view(), name="promoter-commissions"),
    path("promoter/qrcode", distribution.QrCodeView.as_view(), name="promoter-qrcode"),
    path("promoter/share", distribution.ShareView.as_view(), name="promoter-share"),
    path("promoter/estimate", distribution.EstimateView.as_view(), name="promoter-estimate"),
    path("promoter/poster", distribution.PosterView.as_view(), name="promoter-poster"),
    path("promoter/withdrawals", distribution.WithdrawalListView.as_view(), name="promoter-withdrawals"),
    path(
        "promoter/withdrawals/preview", distribution.WithdrawalPreviewView.as_view(), name="promoter-withdrawal-preview"
    ),
    path("promoter/withdrawals/<id:pk>", distribution.WithdrawalDetailView.as_view(), name="promoter-withdrawal"),
    # Anything else under /api/v1/ (unknown paths, bad ids, trailing slashes): a JSON 404.
    re_path(r"^.*$", not_found),
]

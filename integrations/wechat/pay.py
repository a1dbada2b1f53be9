"""WeChat Pay API v3 through wechatpayv3, wrapped in one place.

wechatpayv3 answers ``(status, text)`` instead of raising, has no retries, and keeps its base
URL in a private attribute: ``PayClient`` sets the gateway from ``WECHAT_PAY_BASE_URL``, retries
5xx and timeouts with backoff, turns every non-2xx answer into ``WeChatPayError`` (code and
message kept) and returns parsed JSON. It is built in public-key mode (``WECHAT_PAY_PUBLIC_KEY``
and ``WECHAT_PAY_PUBLIC_KEY_ID``), so construction makes no network call.

Which tenant an ``out_trade_no`` belongs to: ``"<tenant id>_<order no>"`` (``trade_no_for`` /
``parse_trade_no``); refund numbers are ``"<tenant id>_R<…>"``. Notifies arrive on one shared
URL and carry ``out_trade_no``, so the tenant is always found from it.

Merchant transfers (商家转账) allow only letters and digits in ``out_bill_no`` (5–32), so a
withdrawal's bill number is ``"T<tenant id, 7+ digits>W<withdrawal pk, 12+ digits>"``, e.g.
``T0000042W000000001234`` (``transfer_bill_no_for`` / ``parse_transfer_bill_no``); the
transfer notify carries it as ``out_bill_no``. A transfer goes ``WAIT_USER_CONFIRM`` (the user
confirms in the mini-program with ``package_info`` within 24 hours) → ``TRANSFERING`` →
``SUCCESS`` | ``FAIL``, or ends ``CANCELLED`` (unconfirmed: ``OVERDUE_CLOSE``; our cancel:
``CANCELING`` first, then ``MCH_CANCEL``); only final states are notified
(``MCHTRANSFER.BILL.FINISHED``, resource ``mchid``, ``out_bill_no``, ``transfer_bill_no``,
``state``, ``transfer_amount``, ``openid``, ``create_time``, ``update_time``, ``fail_reason``).
Queries answer ``mch_id`` instead of ``mchid``. Commission payouts use the 佣金报酬 scene
(``WECHAT_TRANSFER_SCENE_ID``, 1005), which requires the report infos 岗位类型 and 报酬说明.

Profit sharing answers ``state: PROCESSING`` with receivers ``PENDING``; a later
``profit_sharing_query`` shows each receiver ``SUCCESS`` or ``CLOSED`` (with ``fail_reason``).
"""

from __future__ import annotations

import copy
import functools
import json
import logging
import re
import secrets
import threading
import time
from dataclasses import dataclass

import requests
from django.conf import settings
from wechatpayv3 import WeChatPay, WeChatPayType

from integrations.wechat.conf import notify_url, pay_private_key, pay_public_key, require
from integrations.wechat.errors import WeChatPayError, WeChatSignatureError, WeChatUnavailable

log = logging.getLogger(__name__)

PAY_NOTIFY_PATH = "/wechat/pay/notify/"
REFUND_NOTIFY_PATH = "/wechat/pay/refund-notify/"
TRANSFER_NOTIFY_PATH = "/wechat/pay/transfer-notify/"
TRADE_NO_RE = re.compile(r"^(\d{1,9})_([0-9A-Za-z]{1,22})$")
TRANSFER_BILL_NO_RE = re.compile(r"^T(\d{7,})W(\d{12,})$")
OUT_BILL_NO_RE = re.compile(r"^[0-9A-Za-z]{5,32}$")
# The report infos (转账场景报备信息) each transfer scene requires: info_type → default content.
TRANSFER_SCENE_REPORTS = {
    "1000": {"活动名称": "推广佣金提现", "奖励说明": "推广佣金"},  # 现金营销
    "1005": {"岗位类型": "推广员", "报酬说明": "推广佣金"},  # 佣金报酬
}


def trade_no_for(*, tenant_id: int, order_no: str) -> str:
    return f"{tenant_id}_{order_no}"


def parse_trade_no(out_trade_no: str) -> tuple[int, str] | None:
    """``(tenant id, order no)``, or None for a number we never issued."""
    m = TRADE_NO_RE.match(out_trade_no or "")
    return (int(m.group(1)), m.group(2)) if m else None


def refund_no_for(*, tenant_id: int, refund_pk: int) -> str:
    return f"{tenant_id}_R{refund_pk:010d}"


def transfer_bill_no_for(*, tenant_id: int, withdrawal_pk: int) -> str:
    """The merchant-transfer ``out_bill_no`` of one store's withdrawal: letters and digits only
    (WeChat refuses ``_``), at most 32 characters, e.g. ``T0000042W000000001234``."""
    if isinstance(tenant_id, bool) or isinstance(withdrawal_pk, bool) or tenant_id < 0 or withdrawal_pk < 0:
        raise ValueError("tenant_id and withdrawal_pk must be non-negative integers")
    no = f"T{tenant_id:07d}W{withdrawal_pk:012d}"
    if len(no) > 32:
        raise ValueError(f"transfer bill number too long: {no}")
    return no


def parse_transfer_bill_no(out_bill_no: str) -> tuple[int, int] | None:
    """``(tenant id, withdrawal pk)``, or None for a number we never issued."""
    m = TRANSFER_BILL_NO_RE.match(out_bill_no or "")
    if not m or len(out_bill_no) > 32:
        return None
    return int(m.group(1)), int(m.group(2))


@dataclass(frozen=True)
class Notify:
    id: str
    event_type: str
    resource: dict


@functools.lru_cache(maxsize=8)
def _wechatpay(
    mchid: str,
    private_key: str,
    cert_serial_no: str,
    appid: str,
    apiv3_key: str,
    notify: str,
    timeout: tuple,
    public_key: str,
    public_key_id: str,
    gateway: str,
) -> WeChatPay:
    """One wechatpayv3 client per configuration and process.

    Building one parses and validates the merchant's RSA key (~40 ms of CPU, measured by
    ``bench/orders.py``'s profile: most of a pay notify's time); the client holds no per-request
    state, so it is reused. A change of any setting (tests override them) makes a new one.
    """
    pay = WeChatPay(
        wechatpay_type=WeChatPayType.MINIPROG,
        mchid=mchid,
        private_key=private_key,
        cert_serial_no=cert_serial_no,
        appid=appid,
        apiv3_key=apiv3_key,
        notify_url=notify,
        timeout=timeout,
        public_key=public_key,
        public_key_id=public_key_id,
    )
    pay._core._gate_way = gateway  # the one private attribute
    return pay


class PayClient:
    def __init__(self, *, appid: str | None = None):
        require("WECHAT_PAY_MCHID", "WECHAT_PAY_APIV3_KEY", "WECHAT_PAY_CERT_SERIAL_NO", "WECHAT_PAY_PUBLIC_KEY_ID")
        self.appid = appid or settings.WECHAT_PAY_APPID
        self._pay = _wechatpay(
            settings.WECHAT_PAY_MCHID,
            pay_private_key(),
            settings.WECHAT_PAY_CERT_SERIAL_NO,
            self.appid,
            settings.WECHAT_PAY_APIV3_KEY,
            notify_url(PAY_NOTIFY_PATH),
            (settings.WECHAT_CONNECT_TIMEOUT, settings.WECHAT_READ_TIMEOUT),
            pay_public_key(),
            settings.WECHAT_PAY_PUBLIC_KEY_ID,
            settings.WECHAT_PAY_BASE_URL.rstrip("/"),
        )

    # -- the one wrapper ----------------------------------------------------------------
    def _call(self, name: str, *args, **kwargs) -> dict:
        attempts = settings.WECHAT_RETRIES + 1
        last = None
        for attempt in range(attempts):
            if attempt:
                time.sleep(settings.WECHAT_RETRY_BACKOFF * (2 ** (attempt - 1)))
            try:
                status, text = getattr(self._pay, name)(*args, **kwargs)
            except requests.RequestException as exc:  # timeouts, refused connections
                last = WeChatUnavailable(None, f"微信支付无法连接或超时：{exc.__class__.__name__}")
                log.warning("wechat pay %s attempt %s: %s", name, attempt + 1, exc)
                continue
            except Exception as exc:  # wechatpayv3 raises bare Exception on a bad signature or argument
                if "signature" in str(exc):
                    raise WeChatSignatureError("SIGN_ERROR", "微信支付应答签名验证失败") from exc
                raise WeChatPayError("PARAM_ERROR", str(exc)) from exc
            if status >= 500:
                last = WeChatUnavailable(None, f"微信支付暂时不可用（HTTP {status}）", status=status)
                log.warning("wechat pay %s attempt %s: HTTP %s", name, attempt + 1, status)
                continue
            data = _json(text)
            if status >= 400:
                raise WeChatPayError(data.get("code", str(status)), data.get("message", ""), status=status)
            return data
        raise last

    # -- payments -------------------------------------------------------------------------
    def prepay_miniprogram(
        self,
        *,
        out_trade_no: str,
        description: str,
        amount_fen: int,
        openid: str,
        appid: str,
        profit_sharing: bool = False,
        attach: str | None = None,
    ) -> dict:
        """JSAPI/mini-program prepay: returns ``{"prepay_id"}`` plus the parameters
        ``wx.requestPayment`` needs (signed over appid, timestamp, nonce, package)."""
        _check_amount(amount_fen)
        data = self._call(
            "pay",
            description=description,
            out_trade_no=out_trade_no,
            amount={"total": amount_fen, "currency": "CNY"},
            payer={"openid": openid},
            attach=attach,
            settle_info={"profit_sharing": True} if profit_sharing else None,
            appid=appid,
            pay_type=WeChatPayType.MINIPROG,
        )
        return {"prepay_id": data["prepay_id"], "pay_params": self.request_payment_params(appid, data["prepay_id"])}

    def prepay_native(
        self,
        *,
        out_trade_no: str,
        description: str,
        amount_fen: int,
        profit_sharing: bool = False,
        attach: str | None = None,
    ) -> str:
        """Native (PC QR) prepay: returns the ``code_url`` to show as a QR code."""
        _check_amount(amount_fen)
        data = self._call(
            "pay",
            description=description,
            out_trade_no=out_trade_no,
            amount={"total": amount_fen, "currency": "CNY"},
            attach=attach,
            settle_info={"profit_sharing": True} if profit_sharing else None,
            pay_type=WeChatPayType.NATIVE,
        )
        return data["code_url"]

    def prepay_h5(
        self,
        *,
        out_trade_no: str,
        description: str,
        amount_fen: int,
        payer_client_ip: str,
        profit_sharing: bool = False,
        attach: str | None = None,
    ) -> str:
        """H5 (a mobile browser outside WeChat) prepay: returns the ``h5_url`` of WeChat's
        cashier page the browser opens."""
        _check_amount(amount_fen)
        data = self._call(
            "pay",
            description=description,
            out_trade_no=out_trade_no,
            amount={"total": amount_fen, "currency": "CNY"},
            attach=attach,
            settle_info={"profit_sharing": True} if profit_sharing else None,
            scene_info={"payer_client_ip": payer_client_ip or "127.0.0.1", "h5_info": {"type": "Wap"}},
            pay_type=WeChatPayType.H5,
        )
        return data["h5_url"]

    def request_payment_params(self, appid: str, prepay_id: str) -> dict:
        timestamp = str(int(time.time()))
        nonce = secrets.token_hex(16)
        package = f"prepay_id={prepay_id}"
        return {
            "appId": appid,
            "timeStamp": timestamp,
            "nonceStr": nonce,
            "package": package,
            "signType": "RSA",
            "paySign": self._pay.sign([appid, timestamp, nonce, package]),
        }

    def query(self, *, out_trade_no: str) -> dict:
        return self._call("query", out_trade_no=out_trade_no)

    def close(self, *, out_trade_no: str) -> dict:
        return self._call("close", out_trade_no=out_trade_no)

    # -- refunds --------------------------------------------------------------------------
    def refund(
        self,
        *,
        out_trade_no: str,
        out_refund_no: str,
        refund_fen: int,
        total_fen: int,
        reason: str = "",
        transaction_id: str | None = None,
    ) -> dict:
        """Refund part of a payment. ``transaction_id`` names the very payment refunded (it
        wins over ``out_trade_no``: an order paid twice has two)."""
        _check_amount(refund_fen)
        return self._call(
            "refund",
            out_refund_no=out_refund_no,
            amount={"refund": refund_fen, "total": total_fen, "currency": "CNY"},
            transaction_id=transaction_id or None,
            out_trade_no=out_trade_no,
            reason=reason or None,
            notify_url=notify_url(REFUND_NOTIFY_PATH),
        )

    def query_refund(self, *, out_refund_no: str) -> dict:
        return self._call("query_refund", out_refund_no=out_refund_no)

    # -- profit sharing -------------------------------------------------------------------
    def add_receiver(
        self,
        *,
        account: str,
        relation_type: str = "DISTRIBUTOR",
        account_type: str = "PERSONAL_OPENID",
        appid: str | None = None,
    ) -> dict:
        appid = appid or self.appid
        if account_type == "PERSONAL_OPENID" and not appid:
            raise WeChatPayError("PARAM_ERROR", "appid 不能为空（接收方类型为 PERSONAL_OPENID 时必填）")
        return self._call(
            "profitsharing_add_receiver",
            account_type=account_type,
            account=account,
            relation_type=relation_type,
            appid=appid,
        )

    def profit_sharing_order(
        self,
        *,
        transaction_id: str,
        out_order_no: str,
        receivers: list[dict],
        unfreeze_unsplit: bool,
        appid: str | None = None,
    ) -> dict:
        """Split a paid order: answers ``state: PROCESSING`` with each receiver ``PENDING``;
        ``profit_sharing_query`` later shows each ``SUCCESS`` or ``CLOSED`` (``fail_reason``)."""
        if not receivers or len(receivers) > 50:
            raise WeChatPayError("PARAM_ERROR", "分账接收方须为 1–50 个")
        for r in receivers:
            _check_amount(r.get("amount"))
        appid = appid or self.appid
        if not appid and any(r.get("type") == "PERSONAL_OPENID" for r in receivers):
            raise WeChatPayError("PARAM_ERROR", "appid 不能为空（接收方类型为 PERSONAL_OPENID 时必填）")
        return self._call(
            "profitsharing_order",
            transaction_id=transaction_id,
            out_order_no=out_order_no,
            receivers=[dict(r) for r in receivers],
            unfreeze_unsplit=unfreeze_unsplit,
            appid=appid,
        )

    def profit_sharing_query(self, *, transaction_id: str, out_order_no: str) -> dict:
        return self._call("profitsharing_order_query", transaction_id=transaction_id, out_order_no=out_order_no)

    def profit_sharing_return(
        self, *, out_order_no: str, out_return_no: str, return_mchid: str, amount_fen: int, description: str
    ) -> dict:
        _check_amount(amount_fen)
        return self._call(
            "profitsharing_return",
            out_return_no=out_return_no,
            return_mchid=return_mchid,
            amount=amount_fen,
            description=description,
            out_order_no=out_order_no,
        )

    def profit_sharing_unfreeze(self, *, transaction_id: str, out_order_no: str, description: str) -> dict:
        return self._call(
            "profitsharing_unfreeze", transaction_id=transaction_id, out_order_no=out_order_no, description=description
        )

    # -- merchant transfers (the user confirms in the mini-program within 24 hours) --------
    def transfer(
        self,
        *,
        out_bill_no: str,
        openid: str,
        amount_fen: int,
        remark: str,
        appid: str | None = None,
        user_name: str | None = None,
        job: str = "推广员",
        reward: str = "推广佣金",
    ) -> dict:
        """Create a transfer bill (``WAIT_USER_CONFIRM``; the answer's ``package_info`` goes to
        ``wx.requestMerchantTransfer``). ``appid`` is the store's mini-program (the openid's
        AppID; defaults to the client's own). The scene is ``WECHAT_TRANSFER_SCENE_ID`` (1005
        佣金报酬: report infos 岗位类型 = ``job``, 报酬说明 = ``reward``; 1000 现金营销: 活动名称,
        奖励说明 = ``reward``). The same ``out_bill_no`` with the same arguments answers the same
        bill (safe to retry); with other arguments WeChat answers ``INVALID_REQUEST``."""
        _check_amount(amount_fen)
        if amount_fen < 10:
            raise WeChatPayError("PARAM_ERROR", "商家转账最低 0.10 元")
        remark, job, reward = str(remark or ""), str(job or ""), str(reward or "")  # lazy translations too
        appid = appid or self.appid
        if not appid:
            raise WeChatPayError("PARAM_ERROR", "appid 不能为空（商家转账须传收款用户 openid 所属的 AppID）")
        if not OUT_BILL_NO_RE.match(out_bill_no or ""):
            raise WeChatPayError("PARAM_ERROR", "out_bill_no 须为 5–32 位字母或数字")
        if not remark or len(remark) > 32:
            raise WeChatPayError("PARAM_ERROR", "转账备注须为 1–32 个字符")
        scene_id = str(settings.WECHAT_TRANSFER_SCENE_ID)
        if scene_id not in TRANSFER_SCENE_REPORTS:
            raise WeChatPayError("PARAM_ERROR", f"不支持的转账场景 {scene_id}（WECHAT_TRANSFER_SCENE_ID）")
        contents = {"岗位类型": job, "报酬说明": reward, "奖励说明": reward}
        report = [
            {"info_type": info_type, "info_content": contents.get(info_type) or default}
            for info_type, default in TRANSFER_SCENE_REPORTS[scene_id].items()
        ]
        return self._call(
            "mch_transfer_bills",
            out_bill_no=out_bill_no,
            transfer_scene_id=scene_id,
            openid=openid,
            transfer_amount=amount_fen,
            transfer_remark=remark,
            user_name=user_name if amount_fen >= 30 else None,
            transfer_scene_report_infos=report,
            appid=appid,
            notify_url=notify_url(TRANSFER_NOTIFY_PATH),
        )

    def transfer_query(self, *, out_bill_no: str) -> dict:
        """The bill by our number: ``mch_id``, ``out_bill_no``, ``transfer_bill_no``, ``appid``,
        ``state``, ``transfer_amount``, ``transfer_remark``, ``openid``, ``create_time``,
        ``update_time`` and, once it failed or was cancelled, ``fail_reason``."""
        return self._call("mch_transfer_bills_query", out_bill_no=out_bill_no)

    def transfer_query_by_bill_no(self, *, transfer_bill_no: str) -> dict:
        """The same view, by WeChat's ``transfer_bill_no``."""
        if not transfer_bill_no:
            raise WeChatPayError("PARAM_ERROR", "transfer_bill_no 不能为空")
        return self._call("mch_transfer_bills_query", transfer_bill_no=transfer_bill_no)

    def transfer_cancel(self, *, out_bill_no: str) -> dict:
        """Cancel a bill the user has not confirmed: answers ``CANCELING``; the bill is
        ``CANCELLED`` (``fail_reason`` ``MCH_CANCEL``) later, with a notify."""
        return self._call("mch_transfer_bills_cancel", out_bill_no=out_bill_no)

    # -- notifies -------------------------------------------------------------------------
    def parse_notify(self, headers, body: bytes | str) -> Notify:
        """Verify the signature and decrypt the resource. Raises ``WeChatSignatureError`` for a
        stale or future ``Wechatpay-Timestamp`` (more than 5 minutes off: a replay), an unknown
        ``Wechatpay-Serial``, a wrong signature, a tampered body or an undecryptable resource."""
        check_notify_timestamp(_header(headers, "Wechatpay-Timestamp"))
        serial = _header(headers, "Wechatpay-Serial")
        if serial != settings.WECHAT_PAY_PUBLIC_KEY_ID:
            # Not the configured WeChat Pay public key: a platform certificate, looked up in the
            # process-wide cache (refreshed at most once a minute), never one call per notify.
            certificate = platform_certificates.find(serial, self._pay._core)
            if certificate is None:
                raise WeChatSignatureError("SIGN_ERROR", f"未知的微信支付平台证书序列号：{serial[:64]}")
            # wechatpayv3 verifies with the core's list and refreshes it over the network when
            # the serial is missing: give it a private copy holding just this certificate (the
            # client itself is shared by the process, see _wechatpay).
            core = copy.copy(self._pay._core)
            core._certificates = [certificate]
        else:
            core = self._pay._core
        try:
            data = core.callback(headers, body)
        except Exception as exc:  # unsupported algorithm, malformed JSON…
            raise WeChatSignatureError("SIGN_ERROR", f"通知无法验证：{exc}") from exc
        if not data or not isinstance(data.get("resource"), dict):
            raise WeChatSignatureError("SIGN_ERROR", "通知签名验证或解密失败")
        return Notify(id=str(data.get("id", "")), event_type=str(data.get("event_type", "")), resource=data["resource"])


def _header(headers, name: str) -> str:
    value = headers.get(name) or headers.get("HTTP_" + name.upper().replace("-", "_")) or ""
    return str(value).strip()


def check_notify_timestamp(value: str, *, now: float | None = None) -> None:
    """Refuse a notify signed more than ``WECHAT_PAY_NOTIFY_MAX_SKEW_SECONDS`` (5 minutes) from
    now, either way: a captured notify cannot be replayed later."""
    try:
        ts = int(value)
    except (TypeError, ValueError):
        raise WeChatSignatureError("SIGN_ERROR", "通知缺少有效的 Wechatpay-Timestamp") from None
    skew = (time.time() if now is None else now) - ts
    if abs(skew) > settings.WECHAT_PAY_NOTIFY_MAX_SKEW_SECONDS:
        log.warning("wechat pay notify refused: Wechatpay-Timestamp %s is %+d s off", value, skew)
        raise WeChatSignatureError("TIMESTAMP_EXPIRED", f"通知时间戳相差 {int(skew)} 秒，超过 5 分钟")


class PlatformCertificates:
    """WeChat Pay platform certificates, cached for the whole process.

    A notify signed with a serial we do not hold triggers a refresh from ``/v3/certificates``,
    but at most one per ``WECHAT_PAY_CERT_REFRESH_SECONDS`` (60 s) for the whole deployment
    (a Redis key, ``cache.add``; a process-local timestamp if Redis cannot answer): a flood of
    notifies with made-up serials costs WeChat one call a minute, not one call each."""

    CACHE_KEY = "wechatpay:platform-cert-refresh"

    def __init__(self):
        self._lock = threading.Lock()
        self._certificates: list = []
        self._local_refresh_at = float("-inf")

    def _match(self, serial_no: int):
        return next((c for c in self._certificates if c.serial_number == serial_no), None)

    def find(self, serial: str, core):
        try:
            serial_no = int(serial, 16)
        except (TypeError, ValueError):
            return None  # no certificate has a serial like that: nothing to refresh for
        with self._lock:
            found = self._match(serial_no)
            if found is not None or not self._may_refresh():
                return found
            log.info("wechat pay: unknown platform serial %s, refreshing certificates", serial[:64])
            try:
                core._update_certificates()  # one GET /v3/certificates (signed, verified by serial)
            except Exception as exc:  # network errors, malformed answers: keep what we had
                log.warning("wechat pay: certificate refresh failed: %s", exc)
                return None
            if core._certificates:
                self._certificates = list(core._certificates)
            return self._match(serial_no)

    def _may_refresh(self) -> bool:
        from django.core.cache import cache

        every = settings.WECHAT_PAY_CERT_REFRESH_SECONDS
        now = time.monotonic()
        if now - self._local_refresh_at < every:
            return False
        self._local_refresh_at = now
        try:
            return bool(cache.add(self.CACHE_KEY, 1, timeout=every))
        except Exception as exc:  # Redis down: this process's own guard still holds
            log.warning("wechat pay: certificate refresh guard without Redis: %s", exc)
            return True

    def clear(self) -> None:
        with self._lock:
            self._certificates = []
            self._local_refresh_at = float("-inf")


platform_certificates = PlatformCertificates()


def _check_amount(amount) -> None:
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise WeChatPayError("PARAM_ERROR", "金额须为正整数（分）")


def _json(text) -> dict:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    if not text:
        return {}
    try:
        data = json.loads(text)
    except ValueError:
        return {"message": text[:500]}
    return data if isinstance(data, dict) else {"data": data}

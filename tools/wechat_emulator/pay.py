"""The WeChat Pay v3 API family: signed requests, JSAPI/Native/H5 prepay, order query and close,
refunds, profit sharing, and the cashier page a shopper pays on."""

from __future__ import annotations

import re
import time

from tools.wechat_emulator import pages
from tools.wechat_emulator.http import PayError, Request, Response, html, js, redirect
from tools.wechat_emulator.state import digits, now_iso, token

TRADE_NO_RE = re.compile(r"^[0-9A-Za-z_\-|*]{6,32}$")
OUT_NO_RE = re.compile(r"^[0-9A-Za-z_\-|*@]{1,64}$")


class PayAPI:
    ROUTES = [
        ("POST", '/v3/pay/transactions/<re("jsapi|native|h5"):kind>', "prepay"),
        ("GET", "/v3/pay/transactions/out-trade-no/<no>", "query_order"),
        ("GET", "/v3/pay/transactions/id/<tid>", "query_order_by_id"),
        ("POST", "/v3/pay/transactions/out-trade-no/<no>/close", "close_order"),
        ("POST", "/v3/refund/domestic/refunds", "refund"),
        ("GET", "/v3/refund/domestic/refunds/<no>", "query_refund"),
        ("POST", "/v3/profitsharing/receivers/add", "ps_add_receiver"),
        ("POST", "/v3/profitsharing/orders", "ps_order"),
        ("POST", "/v3/profitsharing/orders/unfreeze", "ps_unfreeze"),
        ("GET", "/v3/profitsharing/orders/<no>", "ps_query"),
        ("POST", "/v3/profitsharing/return-orders", "ps_return"),
        ("GET", "/v3/profitsharing/return-orders/<no>", "ps_return_query"),
        ("GET", "/pay/cashier/<key>", "cashier"),
        ("POST", "/pay/cashier/<key>", "cashier_submit"),
    ]

    # -- WeChat Pay v3 ----------------------------------------------------------------------
    def _signed(self, req: Request) -> None:
        reason = self.signer.verify_request(
            authorization=req.headers.get("Authorization", ""),
            method=req.method,
            path=req.full_path,
            body=req.body,
            mchid=self.s["mchid"],
            serial=self.s["merchant_serial"],
        )
        if reason:
            raise PayError(401, "SIGN_ERROR", reason)

    def _order_view(self, order: dict) -> dict:
        view = {
            k: order[k]
            for k in ("appid", "mchid", "out_trade_no", "trade_type", "trade_state", "trade_state_desc", "attach")
            if k in order
        }
        view["amount"] = {"total": order["amount"], "currency": "CNY"}
        if order["trade_state"] in ("SUCCESS", "REFUND"):
            view.update(
                transaction_id=order["transaction_id"],
                success_time=order["success_time"],
                bank_type="OTHERS",
                payer={"openid": order["payer_openid"]},
            )
            view["amount"].update(payer_total=order["amount"], payer_currency="CNY")
        return view

    def prepay(self, req: Request, kind: str) -> Response:
        self._signed(req)
        body = req.payload()
        if body.get("mchid") != self.s["mchid"]:
            raise PayError(400, "PARAM_ERROR", "mchid 与请求签名的商户号不一致")
        no = body.get("out_trade_no", "")
        if not TRADE_NO_RE.match(no):
            raise PayError(400, "PARAM_ERROR", "out_trade_no 须为 6–32 位字母、数字或 _-|*")
        total = body.get("amount", {}).get("total")
        if not isinstance(total, int) or isinstance(total, bool) or total <= 0:
            raise PayError(400, "PARAM_ERROR", "amount.total 须为正整数（分）")
        if not str(body.get("notify_url", "")).startswith(("http://", "https://")):
            raise PayError(400, "PARAM_ERROR", "notify_url 格式不正确")
        if not body.get("description"):
            raise PayError(400, "PARAM_ERROR", "description 不能为空")
        openid = (body.get("payer") or {}).get("openid")
        if kind == "jsapi" and not openid:
            raise PayError(400, "PARAM_ERROR", "JSAPI 支付须传 payer.openid")
        with self.state.lock:
            orders = self.state.data["orders"]
            existing = orders.get(no)
            if existing:
                if existing["trade_state"] != "NOTPAY":
                    raise PayError(
                        400,
                        "ORDER_CLOSED" if existing["trade_state"] == "CLOSED" else "INVALID_REQUEST",
                        f"订单状态为 {existing['trade_state']}，不能再次下单",
                    )
                if existing["amount"] != total or existing["trade_type"] != kind.upper():
                    raise PayError(400, "INVALID_REQUEST", "商户订单号重复，参数与原单不一致")
                order = existing
            else:
                key = token("", 20)
                order = {
                    "appid": body.get("appid"),
                    "mchid": body["mchid"],
                    "out_trade_no": no,
                    "description": body["description"],
                    "trade_type": kind.upper(),
                    "trade_state": "NOTPAY",
                    "trade_state_desc": "订单未支付",
                    "attach": body.get("attach", ""),
                    "amount": total,
                    "refunded": 0,
                    "notify_url": body["notify_url"],
                    "payer_openid": openid or "",
                    "profit_sharing": bool((body.get("settle_info") or {}).get("profit_sharing")),
                    "prepay_id": "wx" + digits(10) + token("", 22),
                    "key": key,
                    "created": now_iso(),
                    "split": 0,
                }
                orders[no] = order
                self.state.data["prepay"][key] = no
                self.state.save()
        if kind == "native":
            return js({"code_url": f"{self.base_url}/pay/cashier/{order['key']}"})
        if kind == "h5":
            return js({"h5_url": f"{self.base_url}/pay/cashier/{order['key']}"})
        return js({"prepay_id": order["prepay_id"]})

    def _order(self, no: str) -> dict:
        order = self.state.data["orders"].get(no)
        if not order:
            raise PayError(404, "ORDER_NOT_EXIST", "订单不存在")
        return order

    def query_order(self, req: Request, no: str) -> Response:
        self._signed(req)
        if req.query.get("mchid") != self.s["mchid"]:
            raise PayError(400, "PARAM_ERROR", "mchid 不正确")
        return js(self._order_view(self._order(no)))

    def query_order_by_id(self, req: Request, tid: str) -> Response:
        self._signed(req)
        for order in self.state.data["orders"].values():
            if order.get("transaction_id") == tid:
                return js(self._order_view(order))
        raise PayError(404, "ORDER_NOT_EXIST", "订单不存在")

    def close_order(self, req: Request, no: str) -> Response:
        self._signed(req)
        order = self._order(no)
        with self.state.lock:
            if order["trade_state"] in ("SUCCESS", "REFUND"):
                raise PayError(400, "ORDERPAID", "订单已支付，不能关闭")
            order["trade_state"], order["trade_state_desc"] = "CLOSED", "已关闭"
            self.state.save()
        return Response(b"", 204)

    def pay_order(self, key: str, openid: str | None = None) -> dict:
        no = self.state.data["prepay"].get(key) or key
        order = self._order(no)
        with self.state.lock:
            if order["trade_state"] != "NOTPAY":
                raise PayError(400, "INVALID_REQUEST", f"订单状态为 {order['trade_state']}")
            order.update(
                trade_state="SUCCESS",
                trade_state_desc="支付成功",
                transaction_id="4200" + digits(24),
                success_time=now_iso(),
                payer_openid=order["payer_openid"] or openid or "o" + token("", 27),
                paid_ts=time.time(),
            )
            self.state.save()
        self._notify_paid(order)
        return order

    def _notify_paid(self, order: dict) -> None:
        self.out.notify(
            order["notify_url"],
            "TRANSACTION.SUCCESS",
            self._order_view(order) | {"trade_state_desc": "支付成功"},
            associated_data="transaction",
            original_type="transaction",
            summary="支付成功",
        )

    def pay_duplicate(self, no: str, amount: int | None = None) -> dict:
        """A second successful payment for an order already paid, with its own transaction id
        (what a merchant meets when a shopper pays one order twice, e.g. through two channels):
        kept as its own entry (``<out_trade_no>#<n>``), refundable by its transaction id."""
        original = self._order(no)
        with self.state.lock:
            if original["trade_state"] not in ("SUCCESS", "REFUND"):
                raise PayError(400, "INVALID_REQUEST", "原订单尚未支付")
            orders = self.state.data["orders"]
            n = sum(1 for k in orders if k.startswith(no + "#")) + 1
            dup = dict(
                original,
                trade_state="SUCCESS",
                trade_state_desc="支付成功",
                transaction_id="4200" + digits(24),
                success_time=now_iso(),
                refunded=0,
                split=0,
                paid_ts=time.time(),
                amount=int(amount or original["amount"]),
            )
            orders[f"{no}#{n}"] = dup
            self.state.save()
        self._notify_paid(dup)
        return dup

    # refunds
    def _refund_view(self, refund: dict) -> dict:
        return {k: v for k, v in refund.items() if k != "notify_url" and not k.startswith("_")}

    def refund(self, req: Request) -> Response:
        self._signed(req)
        body = req.payload()
        out_refund_no = body.get("out_refund_no", "")
        if not OUT_NO_RE.match(out_refund_no):
            raise PayError(400, "PARAM_ERROR", "out_refund_no 格式不正确")
        if body.get("transaction_id"):  # WeChat prefers it: it names one payment
            order_key, order = next(
                (
                    (k, o)
                    for k, o in self.state.data["orders"].items()
                    if o.get("transaction_id") == body.get("transaction_id")
                ),
                (None, None),
            )
            if order is None:
                raise PayError(404, "RESOURCE_NOT_EXISTS", "订单不存在")
        else:
            order_key, order = body.get("out_trade_no", ""), self._order(body.get("out_trade_no", ""))
        amount = body.get("amount") or {}
        with self.state.lock:
            existing = self.state.data["refunds"].get(out_refund_no)
            if existing:
                return js(self._refund_view(existing))
            if order["trade_state"] not in ("SUCCESS", "REFUND"):
                raise PayError(400, "INVALID_REQUEST", "订单未支付，不能退款")
            if amount.get("total") != order["amount"]:
                raise PayError(400, "PARAM_ERROR", "amount.total 与原订单金额不一致")
            refund_fen = amount.get("refund")
            if not isinstance(refund_fen, int) or refund_fen <= 0:
                raise PayError(400, "PARAM_ERROR", "amount.refund 须为正整数（分）")
            if refund_fen > order["amount"] - order["refunded"]:
                raise PayError(400, "NOT_ENOUGH", "退款金额超过订单可退金额")
            order["refunded"] += refund_fen
            refund = {
                "refund_id": "5030" + digits(25),
                "out_refund_no": out_refund_no,
                "transaction_id": order["transaction_id"],
                "out_trade_no": order["out_trade_no"],
                "channel": "ORIGINAL",
                "user_received_account": "支付用户零钱",
                "create_time": now_iso(),
                "status": "PROCESSING",
                "funds_account": "AVAILABLE",
                "amount": {
                    "total": order["amount"],
                    "refund": refund_fen,
                    "payer_total": order["amount"],
                    "payer_refund": refund_fen,
                    "settlement_refund": refund_fen,
                    "settlement_total": order["amount"],
                    "discount_refund": 0,
                    "currency": "CNY",
                },
                "notify_url": body.get("notify_url") or order["notify_url"],
                "_order_key": order_key,
            }
            self.state.data["refunds"][out_refund_no] = refund
            self.state.save()
        outcome = self.state.data["config"]["refund_outcome"]
        if outcome != "manual":
            self._later(
                self.finish_refund, out_refund_no, outcome, delay=float(self.state.data["config"]["refund_delay"])
            )
        return js(self._refund_view(refund))

    def finish_refund(self, out_refund_no: str, outcome: str) -> dict:
        refund = self.state.data["refunds"][out_refund_no]
        with self.state.lock:
            if refund["status"] != "PROCESSING":
                return refund
            refund["status"] = outcome
            order = self.state.data["orders"][refund.get("_order_key") or refund["out_trade_no"]]
            if outcome == "SUCCESS":
                refund["success_time"] = now_iso()
                order["trade_state"], order["trade_state_desc"] = "REFUND", "转入退款"
            else:
                order["refunded"] -= refund["amount"]["refund"]
            self.state.save()
        resource = {
            "mchid": self.s["mchid"],
            "out_trade_no": refund["out_trade_no"],
            "transaction_id": refund["transaction_id"],
            "out_refund_no": out_refund_no,
            "refund_id": refund["refund_id"],
            "refund_status": outcome,
            "user_received_account": refund["user_received_account"],
            "amount": {k: refund["amount"][k] for k in ("total", "refund", "payer_total", "payer_refund")},
        }
        if outcome == "SUCCESS":
            resource["success_time"] = refund["success_time"]
        summary = {"SUCCESS": "退款成功", "ABNORMAL": "退款异常", "CLOSED": "退款关闭"}[outcome]
        self.out.notify(
            refund["notify_url"],
            f"REFUND.{outcome}",
            resource,
            associated_data="refund",
            original_type="refund",
            summary=summary,
        )
        return refund

    def query_refund(self, req: Request, no: str) -> Response:
        self._signed(req)
        refund = self.state.data["refunds"].get(no)
        if not refund:
            raise PayError(404, "RESOURCE_NOT_EXISTS", "退款单不存在")
        return js(self._refund_view(refund))

    # profit sharing: an order is PROCESSING and each receiver PENDING until WeChat finishes it
    # (SUCCESS, or CLOSED with a fail_reason): after config profit_sharing_delay seconds with
    # config profit_sharing_outcome (SUCCESS | CLOSED | manual), or forced through the test API
    # (``profitsharing`` with out_order_no, outcome success | closed, optional account).
    def _ps_view(self, ps: dict) -> dict:
        return ps | {"receivers": [{k: v for k, v in r.items() if k != "returned"} for r in ps["receivers"]]}

    def ps_add_receiver(self, req: Request) -> Response:
        self._signed(req)
        body = req.payload()
        for field in ("type", "account", "relation_type"):
            if not body.get(field):
                raise PayError(400, "PARAM_ERROR", f"{field} 不能为空")
        if body["type"] == "PERSONAL_OPENID" and not body.get("appid"):
            raise PayError(400, "PARAM_ERROR", "appid 不能为空（接收方类型为 PERSONAL_OPENID 时必填）")
        with self.state.lock:
            self.state.data["receivers"][f"{body['type']}|{body['account']}"] = body
            self.state.save()
        return js({k: body[k] for k in ("type", "account", "relation_type")})

    def ps_order(self, req: Request) -> Response:
        self._signed(req)
        body = req.payload()
        out_order_no = body.get("out_order_no", "")
        if any((r or {}).get("type") == "PERSONAL_OPENID" for r in body.get("receivers") or []) and not body.get(
            "appid"
        ):
            raise PayError(400, "PARAM_ERROR", "appid 不能为空（接收方类型为 PERSONAL_OPENID 时必填）")
        with self.state.lock:
            if out_order_no in self.state.data["ps_orders"]:
                return js(self._ps_view(self.state.data["ps_orders"][out_order_no]))
            order = next(
                (
                    o
                    for o in self.state.data["orders"].values()
                    if o.get("transaction_id") == body.get("transaction_id")
                ),
                None,
            )
            if order is None or order["trade_state"] not in ("SUCCESS", "REFUND"):
                raise PayError(404, "RESOURCE_NOT_EXISTS", "微信订单不存在或未支付")
            if not order["profit_sharing"]:
                raise PayError(403, "NO_AUTH", "该订单下单时未指定分账（settle_info.profit_sharing）")
            if time.time() - order["paid_ts"] < self.state.data["config"]["profit_sharing_min_seconds"]:
                raise PayError(400, "INVALID_REQUEST", "支付完成后 1 分钟内不能分账")
            receivers = body.get("receivers") or []
            if not receivers or len(receivers) > 50:
                raise PayError(400, "PARAM_ERROR", "分账接收方须为 1–50 个")
            total = 0
            for rcv in receivers:
                if f"{rcv.get('type')}|{rcv.get('account')}" not in self.state.data["receivers"]:
                    raise PayError(400, "RECEIVER_INVALID", f"分账接收方 {rcv.get('account')} 未添加")
                if not isinstance(rcv.get("amount"), int) or rcv["amount"] <= 0:
                    raise PayError(400, "PARAM_ERROR", "分账金额须为正整数（分）")
                total += rcv["amount"]
            cap = order["amount"] * self.state.data["config"]["profit_sharing_max_bps"] // 10000
            if order["split"] + total > cap:
                raise PayError(400, "RATIO_EXCEED", "分账金额超出最大分账比例")
            order["split"] += total
            ps = {
                "transaction_id": order["transaction_id"],
                "out_order_no": out_order_no,
                "order_id": "3008" + digits(24),
                "state": "PROCESSING",
                "receivers": [
                    {
                        "amount": rcv["amount"],
                        "description": rcv.get("description", ""),
                        "type": rcv["type"],
                        "account": rcv["account"],
                        "result": "PENDING",
                        "detail_id": "3600" + digits(24),
                        "create_time": now_iso(),
                        "returned": 0,
                    }
                    for rcv in receivers
                ],
                "unfreeze_unsplit": bool(body.get("unfreeze_unsplit")),
            }
            self.state.data["ps_orders"][out_order_no] = ps
            self.state.save()
        config = self.state.data["config"]
        outcome = str(config.get("profit_sharing_outcome", "SUCCESS"))
        if outcome != "manual":
            self._later(
                self.finish_profit_sharing,
                out_order_no,
                outcome,
                strict=False,
                delay=float(config.get("profit_sharing_delay", 0.3)),
            )
        return js(self._ps_view(ps))

    def finish_profit_sharing(
        self, out_order_no: str, outcome: str, *, account: str | None = None, reason: str = "", strict: bool = True
    ) -> dict:
        """WeChat finishes the PENDING receivers of a split (one ``account``, or all): SUCCESS, or
        CLOSED with ``fail_reason`` (the amount goes back to the merchant). The order is
        FINISHED once no receiver is PENDING. ``strict``: nothing to finish is an error."""
        result = {"success": "SUCCESS", "closed": "CLOSED"}.get(str(outcome).lower())
        if result is None:
            raise ValueError(f"outcome must be success or closed, not {outcome!r}")
        with self.state.lock:
            ps = self.state.data["ps_orders"].get(out_order_no)
            if ps is None:
                raise PayError(404, "RESOURCE_NOT_EXISTS", "分账单不存在")
            pending = [
                r
                for r in ps["receivers"]
                if r.get("result") == "PENDING" and (account is None or r["account"] == account)
            ]
            if not pending and strict:
                raise PayError(400, "INVALID_REQUEST", "没有处理中的分账接收方")
            order = next(
                (o for o in self.state.data["orders"].values() if o.get("transaction_id") == ps["transaction_id"]),
                None,
            )
            for r in pending:
                r["result"] = result
                r["finish_time"] = now_iso()
                if result == "CLOSED":
                    r["fail_reason"] = reason or "ACCOUNT_ABNORMAL"
                    if order is not None:
                        order["split"] -= r["amount"]
            if all(r.get("result") != "PENDING" for r in ps["receivers"]):
                ps["state"] = "FINISHED"
            self.state.save()
            return self._ps_view(ps)

    def ps_query(self, req: Request, no: str) -> Response:
        self._signed(req)
        ps = self.state.data["ps_orders"].get(no)
        if not ps or ps["transaction_id"] != req.query.get("transaction_id"):
            raise PayError(404, "RESOURCE_NOT_EXISTS", "分账单不存在")
        return js(self._ps_view(ps))

    def ps_unfreeze(self, req: Request) -> Response:
        self._signed(req)
        body = req.payload()
        order = next(
            (o for o in self.state.data["orders"].values() if o.get("transaction_id") == body.get("transaction_id")),
            None,
        )
        if order is None:
            raise PayError(404, "RESOURCE_NOT_EXISTS", "微信订单不存在")
        with self.state.lock:
            ps = self.state.data["ps_orders"].setdefault(
                body.get("out_order_no", ""),
                {
                    "transaction_id": order["transaction_id"],
                    "out_order_no": body.get("out_order_no"),
                    "order_id": "3008" + digits(24),
                    "receivers": [],
                },
            )
            ps["state"] = "FINISHED"
            ps["receivers"].append(
                {
                    "amount": order["amount"] - order["split"],
                    "description": body.get("description", ""),
                    "type": "MERCHANT_ID",
                    "account": self.s["mchid"],
                    "result": "SUCCESS",
                    "detail_id": "3600" + digits(24),
                    "finish_time": now_iso(),
                }
            )
            order["split"] = order["amount"]
            self.state.save()
        return js(self._ps_view(ps))

    def ps_return(self, req: Request) -> Response:
        self._signed(req)
        body = req.payload()
        with self.state.lock:
            out_return_no = body.get("out_return_no", "")
            if out_return_no in self.state.data["ps_returns"]:
                return js(self.state.data["ps_returns"][out_return_no])
            ps = self.state.data["ps_orders"].get(body.get("out_order_no", ""))
            if ps is None:
                raise PayError(404, "RESOURCE_NOT_EXISTS", "分账单不存在")
            rcv = next(
                (r for r in ps["receivers"] if r["type"] == "MERCHANT_ID" and r["account"] == body.get("return_mchid")),
                None,
            )
            if rcv is None:
                raise PayError(400, "INVALID_REQUEST", "回退商户不是该分账单的接收方")
            if rcv.get("result") != "SUCCESS":
                raise PayError(400, "INVALID_REQUEST", f"分账结果为 {rcv.get('result')}，不能回退")
            amount = body.get("amount")
            if not isinstance(amount, int) or amount <= 0 or amount > rcv["amount"] - rcv.get("returned", 0):
                raise PayError(400, "NOT_ENOUGH", "回退金额超过可回退金额")
            rcv["returned"] = rcv.get("returned", 0) + amount
            ret = {
                "order_id": ps["order_id"],
                "out_order_no": ps["out_order_no"],
                "out_return_no": out_return_no,
                "return_id": "3008" + digits(24),
                "return_mchid": body["return_mchid"],
                "amount": amount,
                "description": body.get("description", ""),
                "result": "SUCCESS",
                "create_time": now_iso(),
                "finish_time": now_iso(),
            }
            self.state.data["ps_returns"][out_return_no] = ret
            self.state.save()
        return js(ret)

    def ps_return_query(self, req: Request, no: str) -> Response:
        self._signed(req)
        ret = self.state.data["ps_returns"].get(no)
        if not ret:
            raise PayError(404, "RESOURCE_NOT_EXISTS", "回退单不存在")
        return js(ret)

    # -- pages --------------------------------------------------------------------------------
    def cashier(self, req: Request, key: str) -> Response:
        no = self.state.data["prepay"].get(key)
        order = self.state.data["orders"].get(no or "")
        if not order:
            return html(pages.message("收银台", "订单不存在或已失效。"), 404)
        return html(pages.cashier(order, key, req.query.get("done", "")))

    def cashier_submit(self, req: Request, key: str) -> Response:
        form = req.fields()
        if form.get("action") == "pay":
            try:
                self.pay_order(key)
            except PayError as exc:
                return html(pages.message("支付失败", exc.message), 400)
            return redirect(f"/pay/cashier/{key}?done=paid")
        return redirect(f"/pay/cashier/{key}?done=cancelled")

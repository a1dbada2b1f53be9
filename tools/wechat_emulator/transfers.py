"""The WeChat Pay merchant-transfer API family (商家转账): transfer bills, their query and
cancel, and finishing a bill (the user confirms, or it expires)."""

from __future__ import annotations

import re

from tools.wechat_emulator.http import PayError, Request, Response, js
from tools.wechat_emulator.state import digits, now_iso, token


class TransfersAPI:
    ROUTES = [
        ("POST", "/v3/fund-app/mch-transfer/transfer-bills", "transfer"),
        ("GET", "/v3/fund-app/mch-transfer/transfer-bills/out-bill-no/<no>", "transfer_query"),
        ("POST", "/v3/fund-app/mch-transfer/transfer-bills/out-bill-no/<no>/cancel", "transfer_cancel"),
    ]

    # merchant transfers
    def _transfer_view(self, t: dict) -> dict:
        return {k: v for k, v in t.items() if k not in ("notify_url",)}

    def transfer(self, req: Request) -> Response:
        self._signed(req)
        body = req.payload()
        no = body.get("out_bill_no", "")
        if not re.match(r"^[0-9A-Za-z]{5,32}$", no):
            raise PayError(400, "PARAM_ERROR", "out_bill_no 须为 5–32 位字母或数字")
        amount = body.get("transfer_amount")
        if not isinstance(amount, int) or amount < 10:
            raise PayError(400, "PARAM_ERROR", "转账金额不能低于 0.10 元")
        if body.get("user_name") and amount < 30:
            raise PayError(400, "PARAM_ERROR", "转账金额低于 0.30 元时不能传收款用户姓名")
        if amount >= 200000 and not body.get("user_name"):
            raise PayError(400, "PARAM_ERROR", "转账金额达到 2,000 元时须传收款用户姓名")
        if not body.get("openid"):
            raise PayError(400, "PARAM_ERROR", "openid 不能为空")
        with self.state.lock:
            existing = self.state.data["transfers"].get(no)
            if existing:
                return js(self._transfer_view(existing) | {"package_info": existing["package_info"]})
            t = {
                "mch_id": self.s["mchid"],
                "out_bill_no": no,
                "transfer_bill_no": "1330" + digits(36),
                "appid": body.get("appid"),
                "state": "WAIT_USER_CONFIRM",
                "transfer_amount": amount,
                "transfer_remark": body.get("transfer_remark", ""),
                "openid": body["openid"],
                "create_time": now_iso(),
                "update_time": now_iso(),
                "package_info": token("ABBQO+oYAAABAAAAAAB", 40),
                "notify_url": body.get("notify_url", ""),
            }
            self.state.data["transfers"][no] = t
            self.state.save()
        return js({k: t[k] for k in ("out_bill_no", "transfer_bill_no", "create_time", "state", "package_info")})

    def _transfer(self, no: str) -> dict:
        t = self.state.data["transfers"].get(no)
        if not t:
            raise PayError(404, "NOT_FOUND", "转账单不存在")
        return t

    def transfer_query(self, req: Request, no: str) -> Response:
        self._signed(req)
        return js(self._transfer_view(self._transfer(no)))

    def transfer_cancel(self, req: Request, no: str) -> Response:
        self._signed(req)
        t = self._transfer(no)
        if t["state"] not in ("WAIT_USER_CONFIRM", "ACCEPTED", "PROCESSING"):
            raise PayError(400, "INVALID_REQUEST", f"转账单状态为 {t['state']}，不能撤销")
        self.finish_transfer(no, "CANCELLED", "商户撤销")
        return js(
            {
                "out_bill_no": no,
                "transfer_bill_no": t["transfer_bill_no"],
                "state": "CANCELING",
                "update_time": t["update_time"],
            }
        )

    def finish_transfer(self, no: str, state: str, reason: str = "") -> dict:
        t = self._transfer(no)
        with self.state.lock:
            if t["state"] != "WAIT_USER_CONFIRM":
                raise PayError(400, "INVALID_REQUEST", f"转账单状态为 {t['state']}")
            t["state"] = state
            t["update_time"] = now_iso()
            if reason:
                t["fail_reason"] = reason
            self.state.save()
        if t["notify_url"]:
            resource = {
                k: t[k]
                for k in (
                    "out_bill_no",
                    "transfer_bill_no",
                    "state",
                    "mch_id",
                    "transfer_amount",
                    "openid",
                    "create_time",
                    "update_time",
                )
            }
            if reason:
                resource["fail_reason"] = reason
            self.out.notify(
                t["notify_url"],
                "MCHTRANSFER.BILL.FINISHED",
                resource,
                associated_data="mch_payment",
                original_type="mch_payment",
                summary="商家转账单据终态通知",
            )
        return t

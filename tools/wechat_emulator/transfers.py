"""The WeChat Pay merchant-transfer API family (商家转账, the user-confirmation mode): transfer
bills, their query (by our number or WeChat's), the merchant's cancel, and the bill's later life.

A bill lives like on the real service, asynchronously:

* created ``WAIT_USER_CONFIRM`` (the answer carries ``package_info`` for
  ``wx.requestMerchantTransfer``);
* the user confirms in the mini-program → ``TRANSFERING`` (no notify yet), then ``SUCCESS`` or
  ``FAIL`` (with ``fail_reason``), each with a ``MCHTRANSFER.BILL.FINISHED`` notify;
* left unconfirmed for 24 hours → ``CANCELLED`` (``fail_reason`` ``OVERDUE_CLOSE``), notified;
* the merchant cancels before the user confirms → the cancel answers ``CANCELING``; the bill
  reaches ``CANCELLED`` (``MCH_CANCEL``) at its next query, after ``CANCEL_SETTLE_SECONDS`` or
  through the test API (``settle-cancel``), notified once.

The test API (``/_emulator/api/transfer`` with ``out_bill_no`` and ``action``) plays the user and
WeChat: ``confirm``, ``succeed``, ``fail`` (optional ``fail_reason``), ``complete`` (confirm +
succeed), ``expire`` and ``settle-cancel``. A transition the bill's state does not allow answers
400 ``INVALID_REQUEST``.

Field names follow WeChat's documentation: query answers say ``mch_id``, the notify's decrypted
resource says ``mchid``.
"""

from __future__ import annotations

import re

from tools.wechat_emulator.http import PayError, Request, Response, js
from tools.wechat_emulator.state import digits, now_iso, token

BILL_NO_RE = re.compile(r"^[0-9A-Za-z]{5,32}$")
# The scenes this merchant has opened, with the report info (转账场景报备信息) each requires.
SCENES = {
    "1000": ("现金营销", ("活动名称", "奖励说明")),
    "1005": ("佣金报酬", ("岗位类型", "报酬说明")),
}
CANCEL_SETTLE_SECONDS = 2.0
QUERY_FIELDS = (
    "mch_id",
    "out_bill_no",
    "transfer_bill_no",
    "appid",
    "state",
    "transfer_amount",
    "transfer_remark",
    "fail_reason",
    "openid",
    "user_name",
    "create_time",
    "update_time",
)
NOTIFY_FIELDS = (
    "out_bill_no",
    "transfer_bill_no",
    "state",
    "transfer_amount",
    "openid",
    "create_time",
    "update_time",
)
# test-API action → (states it may start from, state it leads to, default fail_reason)
TRANSITIONS = {
    "confirm": (("WAIT_USER_CONFIRM",), "TRANSFERING", ""),
    "succeed": (("TRANSFERING",), "SUCCESS", ""),
    "fail": (("TRANSFERING",), "FAIL", "PAYEE_ACCOUNT_ABNORMAL"),
    "expire": (("WAIT_USER_CONFIRM",), "CANCELLED", "OVERDUE_CLOSE"),
    "settle-cancel": (("CANCELING",), "CANCELLED", "MCH_CANCEL"),
}
FINAL = ("SUCCESS", "FAIL", "CANCELLED")


class TransfersAPI:
    ROUTES = [
        ("POST", "/v3/fund-app/mch-transfer/transfer-bills", "transfer"),
        ("GET", "/v3/fund-app/mch-transfer/transfer-bills/out-bill-no/<no>", "transfer_query"),
        ("GET", "/v3/fund-app/mch-transfer/transfer-bills/transfer-bill-no/<bill_no>", "transfer_query_by_bill_no"),
        ("POST", "/v3/fund-app/mch-transfer/transfer-bills/out-bill-no/<no>/cancel", "transfer_cancel"),
    ]

    # merchant transfers
    def _transfer_view(self, t: dict) -> dict:
        return {k: t[k] for k in QUERY_FIELDS if t.get(k) not in (None, "")}

    def _created_view(self, t: dict) -> dict:
        view = {k: t[k] for k in ("out_bill_no", "transfer_bill_no", "create_time", "state")}
        if t["state"] == "WAIT_USER_CONFIRM":
            view["package_info"] = t["package_info"]
        if t.get("fail_reason"):
            view["fail_reason"] = t["fail_reason"]
        return view

    def transfer(self, req: Request) -> Response:
        self._signed(req)
        body = req.payload()
        if not body.get("appid"):
            raise PayError(400, "PARAM_ERROR", "appid 不能为空")
        no = body.get("out_bill_no", "")
        if not BILL_NO_RE.match(no):
            raise PayError(400, "PARAM_ERROR", "out_bill_no 须为 5–32 位字母或数字")
        scene_id = str(body.get("transfer_scene_id") or "")
        if not scene_id:
            raise PayError(400, "PARAM_ERROR", "transfer_scene_id 不能为空")
        self._check_scene_report(scene_id, body.get("transfer_scene_report_infos"))
        if not body.get("openid"):
            raise PayError(400, "PARAM_ERROR", "openid 不能为空")
        amount = body.get("transfer_amount")
        if not isinstance(amount, int) or isinstance(amount, bool) or amount < 10:
            raise PayError(400, "PARAM_ERROR", "转账金额不能低于 0.10 元")
        if body.get("user_name") and amount < 30:
            raise PayError(400, "PARAM_ERROR", "转账金额低于 0.30 元时不能传收款用户姓名")
        if amount >= 200000 and not body.get("user_name"):
            raise PayError(400, "PARAM_ERROR", "转账金额达到 2,000 元时须传收款用户姓名")
        remark = body.get("transfer_remark") or ""
        if not remark:
            raise PayError(400, "PARAM_ERROR", "transfer_remark 不能为空")
        if len(remark) > 32:
            raise PayError(400, "PARAM_ERROR", "transfer_remark 最多 32 个字符")
        with self.state.lock:
            existing = self.state.data["transfers"].get(no)
            if existing:  # the same request again: the same bill; other parameters: refused
                if any(
                    existing.get(k) != v
                    for k, v in (
                        ("transfer_amount", amount),
                        ("openid", body["openid"]),
                        ("appid", body["appid"]),
                        ("transfer_scene_id", scene_id),
                    )
                ):
                    raise PayError(400, "INVALID_REQUEST", "单号已存在但信息不一致，请查单后比较确认")
                return js(self._created_view(existing))
            t = {
                "mch_id": self.s["mchid"],
                "out_bill_no": no,
                "transfer_bill_no": "1330" + digits(36),
                "appid": body["appid"],
                "transfer_scene_id": scene_id,
                "state": "WAIT_USER_CONFIRM",
                "transfer_amount": amount,
                "transfer_remark": remark,
                "openid": body["openid"],
                "user_name": body.get("user_name") or "",  # as sent: encrypted by the client
                "create_time": now_iso(),
                "update_time": now_iso(),
                "package_info": token("ABBQO+oYAAABAAAAAAB", 40),
                "notify_url": body.get("notify_url", ""),
            }
            self.state.data["transfers"][no] = t
            self.state.save()
        return js(self._created_view(t))

    @staticmethod
    def _check_scene_report(scene_id: str, infos) -> None:
        scene = SCENES.get(scene_id)
        if scene is None:
            raise PayError(400, "PARAM_ERROR", f"转账场景 {scene_id} 未开通或不存在")
        name, required = scene
        if not isinstance(infos, list):
            infos = []
        given = [
            (str(i.get("info_type", "")), str(i.get("info_content", "")).strip()) for i in infos if isinstance(i, dict)
        ]
        types = [t for t, _ in given]
        missing = [t for t in required if t not in types]
        unexpected = [t for t in types if t not in required]
        empty = [t for t, content in given if t in required and not content]
        twice = sorted({t for t in types if types.count(t) > 1})
        problems = []
        if missing:
            problems.append("缺少 " + "、".join(missing))
        if unexpected:
            problems.append("不支持 " + "、".join(unexpected))
        if empty:
            problems.append("内容为空：" + "、".join(empty))
        if twice:
            problems.append("重复：" + "、".join(twice))
        if problems:
            raise PayError(
                400,
                "PARAM_ERROR",
                f"需传入转账场景报备信息，请检查：转账场景 {scene_id}（{name}）须报备 "
                f"{'、'.join(required)}；{'；'.join(problems)}",
            )

    def _transfer(self, no: str) -> dict:
        t = self.state.data["transfers"].get(no)
        if not t:
            raise PayError(404, "NOT_FOUND", "转账单不存在")
        return t

    def transfer_query(self, req: Request, no: str) -> Response:
        self._signed(req)
        t = self._transfer(no)
        self._settle_cancel_if_due(t)
        return js(self._transfer_view(t))

    def transfer_query_by_bill_no(self, req: Request, bill_no: str) -> Response:
        self._signed(req)
        t = next((t for t in self.state.data["transfers"].values() if t["transfer_bill_no"] == bill_no), None)
        if t is None:
            raise PayError(404, "NOT_FOUND", "转账单不存在")
        self._settle_cancel_if_due(t)
        return js(self._transfer_view(t))

    def transfer_cancel(self, req: Request, no: str) -> Response:
        self._signed(req)
        t = self._transfer(no)
        with self.state.lock:
            if t["state"] not in ("WAIT_USER_CONFIRM", "ACCEPTED", "PROCESSING", "CANCELING"):
                raise PayError(400, "INVALID_REQUEST", f"转账单状态为 {t['state']}，不能撤销")
            if t["state"] != "CANCELING":
                t["state"] = "CANCELING"
                t["update_time"] = now_iso()
                self.state.save()
                self._later(self._settle_cancel_if_due, t, delay=CANCEL_SETTLE_SECONDS)
        return js(
            {
                "out_bill_no": no,
                "transfer_bill_no": t["transfer_bill_no"],
                "state": "CANCELING",
                "update_time": t["update_time"],
            }
        )

    def _settle_cancel_if_due(self, t: dict) -> None:
        """A cancel WeChat accepted (``CANCELING``) is done by the time anyone looks again."""
        with self.state.lock:
            due = t["state"] == "CANCELING"
        if due:
            try:
                self.move_transfer(t["out_bill_no"], "settle-cancel")
            except PayError:  # settled meanwhile by another thread
                pass

    def move_transfer(self, no: str, action: str, reason: str = "") -> dict:
        """One step of a bill's life (the test API's ``transfer`` actions); a final state is
        notified to the bill's ``notify_url``."""
        if action == "complete":
            self.move_transfer(no, "confirm")
            return self.move_transfer(no, "succeed")
        if action not in TRANSITIONS:
            raise KeyError(f"unknown transfer action {action}")
        starts, state, default_reason = TRANSITIONS[action]
        t = self._transfer(no)
        with self.state.lock:
            if t["state"] not in starts:
                raise PayError(400, "INVALID_REQUEST", f"转账单状态为 {t['state']}，不能{action}")
            t["state"] = state
            t["update_time"] = now_iso()
            if state in ("FAIL", "CANCELLED"):
                t["fail_reason"] = reason or default_reason
            self.state.save()
        if state in FINAL and t["notify_url"]:
            resource = {"mchid": t["mch_id"], **{k: t[k] for k in NOTIFY_FIELDS}}
            if t.get("fail_reason"):
                resource["fail_reason"] = t["fail_reason"]
            self.out.notify(
                t["notify_url"],
                "MCHTRANSFER.BILL.FINISHED",
                resource,
                associated_data="mch_payment",
                original_type="mch_payment",
                summary="商家转账单据终态通知",
            )
        return t

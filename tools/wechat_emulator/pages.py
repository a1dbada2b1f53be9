"""HTML of the emulator's pages (plain strings, escaped): scan-to-authorize, cashier, inspector."""

from __future__ import annotations

import json
import urllib.parse
from html import escape

STYLE = """
body{font-family:system-ui,"PingFang SC","Noto Sans CJK SC",sans-serif;margin:0;background:#f5f5f5;color:#222}
header{background:#07c160;color:#fff;padding:12px 20px;font-size:18px}
main{max-width:1100px;margin:20px auto;padding:0 16px}
.card{background:#fff;border-radius:8px;padding:16px 20px;margin-bottom:16px;box-shadow:0 1px 2px #0001}
button{background:#07c160;color:#fff;border:0;border-radius:4px;padding:8px 16px;font-size:15px;cursor:pointer}
button.secondary{background:#999}button.danger{background:#e64340}
table{border-collapse:collapse;width:100%;font-size:13px}td,th{border-bottom:1px solid #eee;padding:4px 6px;text-align:left;vertical-align:top}
pre{white-space:pre-wrap;word-break:break-all;margin:0;max-height:160px;overflow:auto;font-size:12px}
input{padding:6px;font-size:14px}.amount{font-size:32px;font-weight:bold}.muted{color:#888}
form.inline{display:inline}
"""


def page(title: str, body: str) -> str:
    return (
        f'<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>{escape(title)}</title>'
        f'<meta name="viewport" content="width=device-width,initial-scale=1"><style>{STYLE}</style></head>'
        f"<body><header>微信模拟器 · {escape(title)}</header><main>{body}</main></body></html>"
    )


def message(title: str, text: str) -> str:
    return page(title, f'<div class="card"><h2>{escape(title)}</h2><p>{escape(text)}</p></div>')


def not_found(path: str) -> str:
    return message("404", f"没有这个页面：{path}")


def authorize(query: dict, accounts: dict, problem: str | None, suggested_appid: str) -> str:
    if problem:
        return message("授权失败", problem)
    hidden = "".join(
        f'<input type="hidden" name="{k}" value="{escape(query.get(k, ""))}">'
        for k in ("component_appid", "pre_auth_code", "redirect_uri")
    )
    options = "".join(
        f"<li>{escape(a['nickname'])} <code>{escape(appid)}</code>{' · 已授权' if a.get('authorized') else ''}</li>"
        for appid, a in accounts.items()
    )
    return page(
        "小程序授权",
        f"""<div class="card"><h2>授权小程序给第三方平台</h2>
<p class="muted">这一页代替微信的“管理员扫码授权”。第三方平台 <code>{escape(query.get("component_appid", ""))}</code>
将获得小程序开发管理、用户信息、支付等权限。</p>
<form method="post" action="/cgi-bin/componentloginpage">{hidden}
<p><label>小程序名称 <input name="nickname" id="nickname" value="我的小程序"></label></p>
<p><label>小程序 AppID <input name="appid" id="appid" value="{escape(suggested_appid)}" size="24"></label></p>
<p><button type="submit" id="authorize">确认授权</button></p></form>
{f"<p class='muted'>此前授权过的小程序：</p><ul>{options}</ul>" if options else ""}</div>""",
    )


def cashier(order: dict, key: str, done: str) -> str:
    yuan = f"{order['amount'] // 100}.{order['amount'] % 100:02d}"
    if order["trade_state"] == "SUCCESS" or done == "paid":
        state = '<p id="result" class="amount" style="color:#07c160">支付成功</p>'
        actions = ""
    elif done == "cancelled":
        state = '<p id="result">已取消支付，订单仍待支付。</p>'
        actions = _cashier_buttons(key)
    elif order["trade_state"] != "NOTPAY":
        state = f'<p id="result">订单状态：{escape(order["trade_state_desc"])}</p>'
        actions = ""
    else:
        state = ""
        actions = _cashier_buttons(key)
    qr = f"/qr.png?data={urllib.parse.quote(f'/pay/cashier/{key}')}"
    return page(
        "微信支付收银台",
        f"""<div class="card" style="max-width:420px;margin:auto;text-align:center">
<p class="muted">{escape(order["description"])}</p><p class="amount" id="amount">¥{yuan}</p>
<p class="muted">商户单号 {escape(order["out_trade_no"])}</p>{state}{actions}
<p><img src="{qr}" alt="支付二维码" width="160"></p></div>""",
    )


def _cashier_buttons(key: str) -> str:
    return (
        f'<form method="post" action="/pay/cashier/{escape(key)}" class="inline">'
        '<button name="action" value="pay" id="pay">确认支付</button> '
        '<button name="action" value="cancel" id="cancel" class="secondary">取消</button></form>'
    )


def _action(name: str, label: str, cls: str = "", **fields) -> str:
    hidden = "".join(f'<input type="hidden" name="{k}" value="{escape(str(v))}">' for k, v in fields.items())
    return (
        f'<form method="post" action="/_emulator/action" class="inline"><input type="hidden" name="name" value="{name}">'
        f'{hidden}<button class="{cls}">{escape(label)}</button></form> '
    )


def inspector(snap: dict, entries: list[dict], base_url: str) -> str:
    audits = [a for code in snap["code"].values() for a in code["audits"].values()]
    audit_rows = "".join(
        f"<tr><td>{a['appid']}</td><td>{a['auditid']}</td><td>{a['version']}</td><td>{a['status']}</td><td>"
        + (
            _action("audit", "通过", auditid=a["auditid"], action="approve")
            + _action("audit", "驳回", "danger", auditid=a["auditid"], action="reject", reason="小程序内容不符合规范")
            + _action("audit", "延后", "secondary", auditid=a["auditid"], action="delay", reason="审核排队中")
            if a["status"] in (2, 4)
            else ""
        )
        + "</td></tr>"
        for a in audits
    )
    order_rows = "".join(
        f"<tr><td>{escape(o['out_trade_no'])}</td><td>{o['trade_type']}</td><td>{o['amount']}</td><td>{o['trade_state']}</td>"
        f"<td>{'<a href=/pay/cashier/' + o['key'] + '>收银台</a>' if o['trade_state'] == 'NOTPAY' else escape(o.get('transaction_id', ''))}</td></tr>"
        for o in list(snap["orders"].values())[-30:][::-1]
    )
    refund_rows = "".join(
        f"<tr><td>{escape(r['out_refund_no'])}</td><td>{r['amount']['refund']}</td><td>{r['status']}</td><td>"
        + (
            _action("refund", "退款成功", out_refund_no=r["out_refund_no"], action="succeed")
            + _action("refund", "退款失败", "danger", out_refund_no=r["out_refund_no"], action="fail")
            if r["status"] == "PROCESSING"
            else ""
        )
        + "</td></tr>"
        for r in list(snap["refunds"].values())[-30:][::-1]
    )
    transfer_rows = "".join(
        f"<tr><td>{escape(t['out_bill_no'])}</td><td>{t['transfer_amount']}</td><td>{t['state']}</td><td>"
        + {
            "WAIT_USER_CONFIRM": _action("transfer", "用户确认收款", out_bill_no=t["out_bill_no"], action="confirm")
            + _action("transfer", "确认并到账", out_bill_no=t["out_bill_no"], action="complete")
            + _action("transfer", "超时未确认", "danger", out_bill_no=t["out_bill_no"], action="expire"),
            "TRANSFERING": _action("transfer", "转账成功", out_bill_no=t["out_bill_no"], action="succeed")
            + _action("transfer", "转账失败", "danger", out_bill_no=t["out_bill_no"], action="fail"),
            "CANCELING": _action("transfer", "完成撤销", out_bill_no=t["out_bill_no"], action="settle-cancel"),
        }.get(t["state"], "")
        + "</td></tr>"
        for t in list(snap["transfers"].values())[-30:][::-1]
    )
    account_rows = "".join(
        f"<tr><td>{escape(a['nickname'])}</td><td>{appid}</td><td>{'已授权' if a.get('authorized') else '未授权'}</td><td>"
        + (_action("unauthorize", "取消授权", "danger", appid=appid) if a.get("authorized") else "")
        + "</td></tr>"
        for appid, a in snap["accounts"].items()
    )
    log_rows = "".join(
        f"<tr><td>{e['id']}</td><td>{e['at'][11:]}</td><td>{e['kind']}</td><td>{escape(e.get('method', ''))} "
        f"{escape(str(e.get('path', '')))}</td><td>{e.get('status', '')}</td>"
        f"<td><pre>{escape(_short(e.get('request')))}</pre></td><td><pre>{escape(_short(e.get('response')))}</pre></td></tr>"
        for e in entries
    )
    config = snap["config"]
    return page(
        "检查器",
        f"""<div class="card"><b>第三方平台</b> {snap["secrets"]["component_appid"]} · <b>商户号</b> {snap["secrets"]["mchid"]}
· 退款结果 {escape(str(config["refund_outcome"]))} · {_action("push-ticket", "立即推送 ticket", "secondary")}
{_action("expire-tokens", "令牌全部过期（42001）", "secondary")}</div>
<div class="card"><h3>已授权小程序</h3><table><tr><th>名称</th><th>AppID</th><th>状态</th><th></th></tr>{account_rows}</table></div>
<div class="card"><h3>代码审核</h3><table><tr><th>AppID</th><th>auditid</th><th>版本</th><th>状态 (0 通过 1 驳回 2 审核中 4 延后)</th><th></th></tr>{audit_rows}</table></div>
<div class="card"><h3>支付订单</h3><table><tr><th>商户单号</th><th>类型</th><th>金额(分)</th><th>状态</th><th></th></tr>{order_rows}</table></div>
<div class="card"><h3>退款</h3><table><tr><th>退款单号</th><th>金额(分)</th><th>状态</th><th></th></tr>{refund_rows}</table></div>
<div class="card"><h3>商家转账</h3><table><tr><th>单号</th><th>金额(分)</th><th>状态</th><th></th></tr>{transfer_rows}</table></div>
<div class="card"><h3>调用、推送与通知（最新在前）</h3><table id="log"><tr><th>#</th><th>时间</th><th>类型</th><th>请求</th><th>状态</th><th>请求内容</th><th>应答</th></tr>{log_rows}</table></div>""",
    )


def _short(value) -> str:
    if value in (None, ""):
        return ""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, indent=1)
    return text[:1500]

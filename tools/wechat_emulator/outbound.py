"""What the emulated WeChat sends to us: encrypted component pushes and audit events (wechatpy's
``WeChatCrypto``, XML), and signed, AEAD-encrypted WeChat Pay notifies retried on a non-2xx
answer like WeChat does (same notify id on every attempt)."""

from __future__ import annotations

import json
import secrets
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

import xmltodict
from wechatpy.crypto import WeChatCrypto

from tools.wechat_emulator.signing import Signer
from tools.wechat_emulator.state import State, now_iso

# WeChat retries 15 times over ~24 h (15 s … 6 h); here the same count, compressed.
DEFAULT_RETRY_SECONDS = (0.5, 1, 2, 3, 5, 5, 10, 10, 15, 15, 30, 30, 60, 60)


def post(url: str, body: bytes, headers: dict, timeout: float = 5.0) -> tuple[int, str]:
    req = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 (loopback, http only)
            return resp.status, resp.read(2000).decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(2000).decode("utf-8", "replace")
    except OSError as exc:
        return 0, f"{exc.__class__.__name__}: {exc}"


class Outbound:
    def __init__(self, state: State, signer: Signer, secrets_: dict, callback_base: str, retry_seconds=None):
        self.state = state
        self.signer = signer
        self.secrets = secrets_
        self.callback_base = callback_base.rstrip("/") if callback_base else ""
        self.retry_seconds = tuple(retry_seconds or DEFAULT_RETRY_SECONDS)
        self.crypto = WeChatCrypto(
            secrets_["component_token"], secrets_["component_aes_key"], secrets_["component_appid"]
        )

    # -- open platform pushes -------------------------------------------------------------
    def _push(self, url: str, plain_xml: str, outer_name: str, outer_value: str) -> tuple[int, str]:
        nonce = secrets.token_hex(8)
        timestamp = str(int(time.time()))
        packed = xmltodict.parse(self.crypto.encrypt_message(plain_xml, nonce, timestamp))["xml"]
        body = (
            f"<xml><{outer_name}><![CDATA[{outer_value}]]></{outer_name}>"
            f"<Encrypt><![CDATA[{packed['Encrypt']}]]></Encrypt></xml>"
        ).encode()
        query = urllib.parse.urlencode(
            {"timestamp": timestamp, "nonce": nonce, "encrypt_type": "aes", "msg_signature": packed["MsgSignature"]}
        )
        status, answer = post(f"{url}?{query}", body, {"Content-Type": "text/xml"})
        self.state.record("push", method="POST", path=url, status=status, request=plain_xml, response=answer)
        return status, answer

    def push_component(self, info_type: str, **fields) -> tuple[int, str]:
        if not self.callback_base:
            return 0, "no callback configured"
        appid = self.secrets["component_appid"]
        parts = "".join(f"<{k}><![CDATA[{v}]]></{k}>" for k, v in fields.items())
        plain = (
            f"<xml><AppId><![CDATA[{appid}]]></AppId><CreateTime>{int(time.time())}</CreateTime>"
            f"<InfoType><![CDATA[{info_type}]]></InfoType>{parts}</xml>"
        )
        return self._push(f"{self.callback_base}/wechat/component/", plain, "AppId", appid)

    def push_ticket(self) -> tuple[int, str]:
        ticket = "ticket@@@" + secrets.token_urlsafe(40)
        with self.state.lock:
            self.state.data["component"]["ticket"] = ticket
            self.state.save()
        return self.push_component("component_verify_ticket", ComponentVerifyTicket=ticket)

    def push_event(self, appid: str, event: str, **fields) -> tuple[int, str]:
        if not self.callback_base:
            return 0, "no callback configured"
        account = self.state.data["accounts"].get(appid, {})
        username = account.get("user_name", "gh_" + appid[-12:])
        parts = "".join(f"<{k}><![CDATA[{v}]]></{k}>" for k, v in fields.items())
        plain = (
            f"<xml><ToUserName><![CDATA[{username}]]></ToUserName>"
            f"<FromUserName><![CDATA[o{secrets.token_hex(12)}]]></FromUserName>"
            f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[event]]></MsgType>"
            f"<Event><![CDATA[{event}]]></Event>{parts}</xml>"
        )
        return self._push(f"{self.callback_base}/wechat/events/{appid}/", plain, "ToUserName", username)

    def ticket_loop(self, interval: float) -> None:
        """Push a ticket now (retrying until our side answers) and then every ``interval`` s."""

        def run():
            delay = 0.5
            while True:
                status, _ = self.push_ticket()
                if 200 <= status < 300:
                    time.sleep(interval)
                    delay = 0.5
                else:
                    time.sleep(delay)
                    delay = min(delay * 2, 30)

        threading.Thread(target=run, name="ticket-pusher", daemon=True).start()

    # -- WeChat Pay notifies --------------------------------------------------------------
    def notify(
        self, url: str, event_type: str, resource: dict, *, associated_data: str, original_type: str, summary: str
    ) -> str:
        notify_id = secrets.token_hex(18)
        created = now_iso()
        body = json.dumps(
            {
                "id": notify_id,
                "create_time": created,
                "resource_type": "encrypt-resource",
                "event_type": event_type,
                "summary": summary,
                "resource": self.signer.encrypt_resource(resource, associated_data, original_type),
            },
            ensure_ascii=False,
        ).encode()
        with self.state.lock:
            self.state.data["notifies"][notify_id] = {
                "url": url,
                "event_type": event_type,
                "resource": resource,
                "body": body.decode(),
                "attempts": 0,
                "delivered": False,
                "created": created,
            }
            self.state.save()
        threading.Thread(target=self._deliver_with_retries, args=(notify_id,), daemon=True).start()
        return notify_id

    def deliver(self, notify_id: str) -> tuple[int, str]:
        """One attempt: the same body, freshly signed headers."""
        with self.state.lock:
            item = self.state.data["notifies"][notify_id]
            item["attempts"] += 1
            url, body = item["url"], item["body"].encode()
        headers = {"Content-Type": "application/json"}
        headers.update(dict(self.signer.response_headers(body)))
        status, answer = post(url, body, headers)
        with self.state.lock:
            if 200 <= status < 300:
                item["delivered"] = True
            self.state.save()
        self.state.record(
            "notify",
            method="POST",
            path=url,
            status=status,
            request={"id": notify_id, "event_type": item["event_type"], "resource": item["resource"]},
            response=answer,
        )
        return status, answer

    def _deliver_with_retries(self, notify_id: str) -> None:
        for wait in (0, *self.retry_seconds):
            time.sleep(wait)
            status, _ = self.deliver(notify_id)
            if 200 <= status < 300:
                return

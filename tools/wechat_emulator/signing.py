"""WeChat Pay v3 signatures and notify encryption, the emulated WeChat side."""

from __future__ import annotations

import base64
import json
import re
import secrets
import time

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

AUTH_RE = re.compile(r'(\w+)="([^"]*)"')
SCHEMA = "WECHATPAY2-SHA256-RSA2048"


class Signer:
    def __init__(self, *, platform_private_pem: bytes, merchant_public_pem: bytes, public_key_id: str, apiv3_key: str):
        self.private = serialization.load_pem_private_key(platform_private_pem, password=None)
        self.merchant_public = serialization.load_pem_public_key(merchant_public_pem)
        self.public_key_id = public_key_id
        self.apiv3_key = apiv3_key

    def sign(self, message: str) -> str:
        sig = self.private.sign(message.encode(), padding.PKCS1v15(), hashes.SHA256())
        return base64.b64encode(sig).decode()

    def response_headers(self, body: bytes) -> list[tuple[str, str]]:
        ts = str(int(time.time()))
        nonce = secrets.token_hex(16).upper()
        signature = self.sign(f"{ts}\n{nonce}\n{body.decode('utf-8')}\n")
        return [
            ("Wechatpay-Timestamp", ts),
            ("Wechatpay-Nonce", nonce),
            ("Wechatpay-Signature", signature),
            ("Wechatpay-Serial", self.public_key_id),
            ("Wechatpay-Signature-Type", SCHEMA),
            ("Request-ID", secrets.token_hex(16)),
        ]

    def verify_request(
        self, *, authorization: str, method: str, path: str, body: bytes, mchid: str, serial: str
    ) -> str | None:
        """None when the request is signed by our merchant key, else the reason."""
        if not authorization.startswith(SCHEMA + " "):
            return "Authorization 头缺失或认证类型不是 WECHATPAY2-SHA256-RSA2048"
        fields = dict(AUTH_RE.findall(authorization))
        for name in ("mchid", "nonce_str", "signature", "timestamp", "serial_no"):
            if not fields.get(name):
                return f"Authorization 缺少 {name}"
        if fields["mchid"] != mchid:
            return "商户号与签名不匹配"
        if fields["serial_no"] != serial:
            return "商户证书序列号不正确"
        try:
            if abs(time.time() - int(fields["timestamp"])) > 300:
                return "签名时间戳过期"
        except ValueError:
            return "签名时间戳无效"
        message = f"{method}\n{path}\n{fields['timestamp']}\n{fields['nonce_str']}\n{body.decode('utf-8')}\n"
        try:
            self.merchant_public.verify(
                base64.b64decode(fields["signature"]), message.encode(), padding.PKCS1v15(), hashes.SHA256()
            )
        except (InvalidSignature, ValueError):
            return "签名错误"
        return None

    def encrypt_resource(self, resource: dict, associated_data: str, original_type: str) -> dict:
        nonce = secrets.token_hex(6)
        plaintext = json.dumps(resource, ensure_ascii=False).encode()
        ciphertext = AESGCM(self.apiv3_key.encode()).encrypt(nonce.encode(), plaintext, associated_data.encode())
        return {
            "algorithm": "AEAD_AES_256_GCM",
            "ciphertext": base64.b64encode(ciphertext).decode(),
            "nonce": nonce,
            "associated_data": associated_data,
            "original_type": original_type,
        }

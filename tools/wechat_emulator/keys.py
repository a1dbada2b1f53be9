"""Keys and secrets for a development pair (our merchant side + the emulated WeChat), generated
at run time and kept only under the data directory (never committed)."""

from __future__ import annotations

import json
import os
import secrets
import string
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

ENV_FILE = "env.json"
SECRETS_FILE = "secrets.json"


def _write(path: Path, data: bytes) -> None:
    path.write_bytes(data)
    os.chmod(path, 0o600)


def _keypair(directory: Path, name: str) -> None:
    private = directory / f"{name}_private.pem"
    public = directory / f"{name}_public.pem"
    if private.exists() and public.exists():
        return
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    _write(
        private,
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()),
    )
    _write(
        public,
        key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo),
    )


def _random(n: int, alphabet: str = string.ascii_letters + string.digits) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(n))


def ensure(directory: Path) -> dict:
    """Create (once) both key pairs and the shared secrets; return the secrets."""
    directory.mkdir(parents=True, exist_ok=True)
    _keypair(directory, "merchant")  # ours: signs our API requests
    _keypair(directory, "platform")  # WeChat Pay's: signs its answers and notifies
    path = directory / SECRETS_FILE
    if path.exists():
        return json.loads(path.read_text())
    values = {
        "component_appid": "wx" + _random(16, "0123456789abcdef"),
        "component_appsecret": _random(32),
        "component_token": _random(24),
        "component_aes_key": _random(43),
        "mchid": "19" + _random(8, string.digits),
        "pay_appid": "wx" + _random(16, "0123456789abcdef"),
        "apiv3_key": _random(32),
        "merchant_serial": _random(40, "0123456789ABCDEF"),
        "public_key_id": "PUB_KEY_ID_" + _random(24, string.digits),
    }
    _write(path, json.dumps(values, indent=2).encode())
    return values


def our_env(directory: Path, base_url: str) -> dict[str, str]:
    """The settings our side needs to talk to this emulator."""
    s = ensure(directory)
    return {
        "WECHAT_EMULATOR_URL": base_url,
        "WECHAT_API_BASE_URL": base_url,
        "WECHAT_PAY_BASE_URL": base_url,
        "WECHAT_AUTHORIZE_PAGE_URL": f"{base_url}/cgi-bin/componentloginpage",
        "WECHAT_COMPONENT_APPID": s["component_appid"],
        "WECHAT_COMPONENT_APPSECRET": s["component_appsecret"],
        "WECHAT_COMPONENT_TOKEN": s["component_token"],
        "WECHAT_COMPONENT_AES_KEY": s["component_aes_key"],
        "WECHAT_PAY_MCHID": s["mchid"],
        "WECHAT_PAY_APPID": s["pay_appid"],
        "WECHAT_PAY_APIV3_KEY": s["apiv3_key"],
        "WECHAT_PAY_CERT_SERIAL_NO": s["merchant_serial"],
        "WECHAT_PAY_PRIVATE_KEY_FILE": str(directory / "merchant_private.pem"),
        "WECHAT_PAY_PUBLIC_KEY_ID": s["public_key_id"],
        "WECHAT_PAY_PUBLIC_KEY_FILE": str(directory / "platform_public.pem"),
    }

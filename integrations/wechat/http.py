"""HTTP sessions for wechatpy: a default timeout and retries with backoff on 5xx, connection
errors and timeouts (WeChat's APIs used here are idempotent or keyed by our own numbers)."""

from __future__ import annotations

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry


class _TimeoutAdapter(HTTPAdapter):
    def __init__(self, *args, timeout, **kwargs):
        self._timeout = timeout
        super().__init__(*args, **kwargs)

    def send(self, request, **kwargs):
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self._timeout
        return super().send(request, **kwargs)


def retry_policy() -> Retry:
    return Retry(
        total=settings.WECHAT_RETRIES,
        connect=settings.WECHAT_RETRIES,
        read=settings.WECHAT_RETRIES,
        status=settings.WECHAT_RETRIES,
        backoff_factor=settings.WECHAT_RETRY_BACKOFF,
        status_forcelist=(500, 502, 503, 504),
        allowed_methods=None,  # POST too: WeChat answers a repeated call with the same result
        raise_on_status=False,
        respect_retry_after_header=False,
    )


def session() -> requests.Session:
    s = requests.Session()
    adapter = _TimeoutAdapter(timeout=timeout(), max_retries=retry_policy())
    s.mount("http://", adapter)
    s.mount("https://", adapter)
    return s


def timeout() -> tuple[float, float]:
    return (settings.WECHAT_CONNECT_TIMEOUT, settings.WECHAT_READ_TIMEOUT)

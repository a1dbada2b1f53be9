"""Our exceptions for WeChat failures. Every one keeps WeChat's code and message.

* ``WeChatAPIError`` — an open-platform/mini-program ``errcode`` other than 0.
* ``WeChatTokenError`` — token errors that survived wechatpy's own refresh-and-retry
  (40001, 40014, 42001) or an invalid refresh token (61023: the merchant must authorise again).
* ``WeChatRateLimited`` — 45009.
* ``WeChatPayError`` — a WeChat Pay v3 4xx answer (``code`` is e.g. ``PARAM_ERROR``).
* ``WeChatUnavailable`` — 5xx or timeouts after our retries: nothing was recorded as done, the
  caller keeps its own state (and the outbox retries later).
* ``WeChatSignatureError`` — a response or notify whose signature does not verify.
"""

from __future__ import annotations

import contextlib

import requests
from wechatpy.exceptions import APILimitedException, WeChatClientException

TOKEN_ERRCODES = frozenset({40001, 40014, 42001, 61023})
RATE_LIMIT_ERRCODES = frozenset({45009})

# A few codes the product shows to people; WeChat's own message is always kept as well.
KNOWN_ERRCODES = {
    40001: "access_token 无效",
    42001: "access_token 已过期",
    43101: "用户未订阅该消息（一次性订阅每次授权只能发送一次）",
    45009: "接口调用超过限额",
    47001: "数据格式错误（ext_json 须为 JSON 字符串）",
    61023: "刷新令牌无效，请商户重新授权",
    61039: "代码检测任务未完成，请稍后再试",
    85012: "无效的审核 ID",
}


class WeChatError(Exception):
    def __init__(self, code: int | str | None, message: str, *, status: int | None = None):
        self.code = code
        self.message = message
        self.status = status
        super().__init__(f"WeChat {code}: {message}" if code is not None else f"WeChat: {message}")


class WeChatAPIError(WeChatError):
    pass


class WeChatTokenError(WeChatAPIError):
    pass


class WeChatRateLimited(WeChatAPIError):
    pass


class WeChatPayError(WeChatError):
    pass


class WeChatUnavailable(WeChatError):
    pass


class WeChatSignatureError(WeChatError):
    pass


def api_error(errcode: int, errmsg: str) -> WeChatAPIError:
    errcode = int(errcode)
    cls = WeChatAPIError
    if errcode in TOKEN_ERRCODES:
        cls = WeChatTokenError
    elif errcode in RATE_LIMIT_ERRCODES:
        cls = WeChatRateLimited
    return cls(errcode, errmsg or KNOWN_ERRCODES.get(errcode, ""))


@contextlib.contextmanager
def translated():
    """Turn wechatpy and requests exceptions into ours (one place for every wechatpy call)."""
    try:
        yield
    except WeChatError:
        raise
    except APILimitedException as exc:
        raise WeChatRateLimited(exc.errcode, str(exc.errmsg)) from exc
    except WeChatClientException as exc:
        if exc.errcode is None:  # HTTP error status after retries (5xx)
            status = getattr(getattr(exc, "response", None), "status_code", None)
            raise WeChatUnavailable(None, f"微信接口暂时不可用（HTTP {status}）", status=status) from exc
        raise api_error(exc.errcode, str(exc.errmsg)) from exc
    except requests.RequestException as exc:
        raise WeChatUnavailable(None, f"微信接口无法连接或超时：{exc.__class__.__name__}") from exc

"""WeChat integration: one client per concern, built on wechatpy (open platform, mini-program)
and wechatpayv3 (WeChat Pay API v3), configured by ``WECHAT_*`` settings only.

* ``open_platform`` — component token and verify ticket, pre-auth code and URL, authorizer
  tokens (stored in the public schema), shopper login, template library.
* ``miniprogram`` — code management (commit, experience QR, audit, release, revert), phone
  number, subscribe messages, mini-program codes with a scene.
* ``pay`` — WeChat Pay v3: prepay, query, close, refunds, profit sharing, merchant transfers,
  notify verification and decryption.
* ``views`` — our callbacks (component push, audit events, payment and refund notifies).

``integrations.wechat.emulator`` is a separate development/test process; nothing on the
production path imports it.
"""

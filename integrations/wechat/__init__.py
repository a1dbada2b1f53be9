"""WeChat clients, one per concern, built on wechatpy (open platform, mini-program) and
wechatpayv3 (WeChat Pay API v3), configured by ``WECHAT_*`` settings only. Clients and token
storage only: no business state, no screens, no callbacks, and no import of a business app
(an import-linter contract in pyproject.toml checks it).

* ``open_platform`` — component token and verify ticket, pre-auth code and URL, authorizer
  tokens, shopper login, template library.
* ``miniprogram`` — code management (commit, experience QR, audit, release, revert), phone
  number, subscribe messages, mini-program codes with a scene.
* ``pay`` — WeChat Pay v3: prepay, query, close, refunds, profit sharing, merchant transfers,
  notify verification and decryption.
* ``storage`` and ``models`` — wechatpy's token storage (public schema).

The binding of a store to its mini-program and WeChat's pushes are ``saas_platform.miniprogram``;
the pay notifies are ``mall.payments.views``. The emulator is ``tools.wechat_emulator``, a
separate development/test process that production never imports.
"""

"""A local WeChat (open platform, mini-program and WeChat Pay v3) that speaks the real protocol,
for development and tests only. Run it as a separate process:

    python -m tools.wechat_emulator --port 8400 --data-dir .data/wechat-emulator \
        --callback-base http://localhost:8000

At start it generates the RSA keys and secrets of both sides (nothing is committed) and writes
``<data-dir>/env.json``: the ``WECHAT_*`` settings our side needs to talk to it. Production
never imports this package.
"""

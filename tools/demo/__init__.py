"""The demo seed (development only): ``manage.py seed_demo`` and ``manage.py wechat_demo_bind``.
Installed only when ``FENXIAO_ENV`` is not ``production`` (config/settings.py); it is built from
each app's ``demo.py``, which calls that app's actions."""

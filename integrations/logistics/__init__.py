"""One client for a Kuaidi100/Cainiao-style parcel tracking API (``client.LogisticsClient``):
subscribe a parcel (carrier code + tracking number + our callback URL), verify and parse the
signed push callback, query a parcel's track. Configured by ``LOGISTICS_API_BASE``,
``LOGISTICS_KEY`` and ``LOGISTICS_CUSTOMER``; `make run` and the tests point it at
``tools/carrier_emulator``."""

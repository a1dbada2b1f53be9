"""A local parcel carrier / tracking API (Kuaidi100/Cainiao style) for development and tests only:

    python -m tools.carrier_emulator --port 8410 --data-dir .data/carrier-emulator --step-seconds 20

It accepts subscriptions signed with the shared key, then advances each parcel collected →
in transit → delivering → delivered (one step every ``--step-seconds``; 0 = only on demand)
and pushes the signed track to the parcel's callback URL after each step (retrying a non-2xx
answer). ``<data-dir>/env.json`` holds the ``LOGISTICS_*`` settings our side needs. A test API
under ``/_emulator/api/`` advances a parcel on demand, marks a tracking number as unknown to the
carrier (it never gets a track), injects faults and shows the state. Production never imports
this package."""

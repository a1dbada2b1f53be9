"""Plans, add-on modules, subscriptions, invoices, WeChat Pay Native QR (SPEC P3).

Not built yet: arrives with the plans-and-billing capability. The tenant lifecycle states it
will drive (trial → active → read-only / suspended) already live in ``tenants``."""

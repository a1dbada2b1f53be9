"""Distribution rules fixed in code (SPEC M4, M7; ARCHITECTURE house rule 6).

Two levels at most: a promoter stores its parent only, and nothing (setting, staff, API)
can make a third level."""

MAX_DISTRIBUTION_LEVELS = 2
MAX_COMMISSION_SHARE_BPS = 3000  # all commission on an order line ≤ 30 % of its net paid amount

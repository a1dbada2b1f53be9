"""``submit_refund`` calls WeChat, so it never runs inside a transaction (it would hold locks)."""

import pytest

from mall.payments.actions import submit_refund


def test_submit_refund_refuses_to_run_inside_a_transaction(db):  # ``db``: the test's transaction
    with pytest.raises(RuntimeError, match="inside a transaction"):
        submit_refund(refund_id=1)

from django.db import connection
from django_tenants.utils import schema_context

from core import crypto
from mall.customers.models import Customer


def test_phone_numbers_are_encrypted_at_rest_and_found_by_blind_index(tenant_a, db):
    with schema_context(tenant_a.schema_name):
        customer = Customer.objects.create(openid="crypto-1", nickname="加密", phone="138 1234 5678")
        with connection.cursor() as cur:
            cur.execute("SELECT phone, phone_index FROM customers_customer WHERE id = %s", [customer.pk])
            raw_phone, index = cur.fetchone()
        assert "13812345678" not in raw_phone
        assert index == crypto.blind_index("13812345678")
        again = Customer.objects.get(phone_index=crypto.blind_index("13812345678"))
        assert again.phone == "13812345678"
        assert again.masked_phone == "138****5678"


def test_masking():
    assert crypto.mask_phone("+8613812345678") == "138****5678"
    assert crypto.mask_phone("") == ""
    assert crypto.mask_address("云南省昆明市五华区翠湖南路 1 号") == "云南省昆明市********"
    assert crypto.is_valid_phone("13812345678")
    assert not crypto.is_valid_phone("12812345678")
    assert not crypto.is_valid_phone("1381234567")

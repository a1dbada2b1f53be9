from tests.onboarding.conftest import memory_sms  # noqa: F401 (fixture: SMS reach tests through the sender)

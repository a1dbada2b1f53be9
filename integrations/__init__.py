"""Clients for external services, one each (``wechat``, ``sms``; Douyin, storage and logistics
later): requests, signatures, notify verification, configuration and token storage only. No
business state, no screens, no callbacks; no import of a business app (import-linter contract
in pyproject.toml). Their emulators live in ``tools/``."""

"""Clients for external services, one each (WeChat, Douyin, SMS, storage, logistics).

Not built yet: the WeChat integration capability adds ``integrations/wechat`` and its emulator."""

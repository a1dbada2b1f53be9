"""Binding a store to its mini-program (public schema): the authorizer (AppID, status, the
tokens WeChat handed us), code audits, the merchant console's binding screen, and WeChat's
pushes to the third-party platform (verify ticket, authorized, unauthorized, audit events).
The WeChat clients themselves are in ``integrations.wechat``."""

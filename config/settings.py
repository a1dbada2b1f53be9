"""One settings module, driven by the environment (see docs/configuration.md).

Every value that differs between a laptop and production comes from an environment
variable. Production mode (``FENXIAO_ENV=production``) refuses to start with DEBUG on,
a default secret key or a default field-encryption key.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return default if value in (None, "") else value


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value in (None, ""):
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return default if value in (None, "") else int(value)


FENXIAO_ENV = env("FENXIAO_ENV", "development")
PRODUCTION = FENXIAO_ENV == "production"

DEV_SECRET_KEY = "dev-insecure-fenxiao-secret-key-do-not-use-in-production"
SECRET_KEY = env("SECRET_KEY", DEV_SECRET_KEY)
DEBUG = env_bool("DEBUG", not PRODUCTION)

# Keys for personal-data fields (SPEC M10). Comma-separated Fernet keys, newest first;
# the HMAC key builds the blind index used to look a phone number up.
DEV_FIELD_ENCRYPTION_KEY = "ZGV2LW9ubHktZmVueGlhby1maWVsZC1rZXktMzJieXQ="
FIELD_ENCRYPTION_KEYS = [
    k.strip() for k in env("FIELD_ENCRYPTION_KEYS", DEV_FIELD_ENCRYPTION_KEY).split(",") if k.strip()
]
FIELD_HASH_KEY = env("FIELD_HASH_KEY", "dev-only-blind-index-key")

if PRODUCTION:
    problems = []
    if DEBUG:
        problems.append("DEBUG must be off in production")
    if SECRET_KEY == DEV_SECRET_KEY or len(SECRET_KEY) < 40:
        problems.append("SECRET_KEY must be set to a long random value")
    if DEV_FIELD_ENCRYPTION_KEY in FIELD_ENCRYPTION_KEYS:
        problems.append("FIELD_ENCRYPTION_KEYS must be set")
    if FIELD_HASH_KEY == "dev-only-blind-index-key":
        problems.append("FIELD_HASH_KEY must be set")
    if problems:
        raise ImproperlyConfigured("Refusing to start in production: " + "; ".join(problems))

# Hosts. The platform host serves the landing page, sign-up and the staff console;
# each merchant is reached at {slug}.{PLATFORM_DOMAIN}; mini-programs call API_HOST.
PLATFORM_DOMAIN = env("PLATFORM_DOMAIN", "localhost")
API_HOST = env("API_HOST", f"api.{PLATFORM_DOMAIN}")
PUBLIC_PORT = env("PUBLIC_PORT", "8000")  # only used to print and build absolute URLs
PUBLIC_SCHEME = env("PUBLIC_SCHEME", "http")
ALLOWED_HOSTS = [h.strip() for h in env("ALLOWED_HOSTS", f".{PLATFORM_DOMAIN},{PLATFORM_DOMAIN}").split(",")]
# Development: http://127.0.0.1:<port>/ (no Host header of ours) reaches the platform.
LOOPBACK_HOSTS = ("127.0.0.1", "[::1]", "::1")
if DEBUG:
    ALLOWED_HOSTS += [h for h in LOOPBACK_HOSTS if h not in ALLOWED_HOSTS]
CSRF_TRUSTED_ORIGINS = [
    o.strip()
    for o in env(
        "CSRF_TRUSTED_ORIGINS",
        f"{PUBLIC_SCHEME}://*.{PLATFORM_DOMAIN}:{PUBLIC_PORT},{PUBLIC_SCHEME}://{PLATFORM_DOMAIN}:{PUBLIC_PORT}",
    ).split(",")
]
SESSION_COOKIE_SECURE = PRODUCTION
CSRF_COOKIE_SECURE = PRODUCTION
# HTTPS in production (development and tests stay on http). TLS ends at the reverse proxy,
# which must set X-Forwarded-Proto (and strip it from clients); infra/README.md.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", PRODUCTION)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # the load balancer's probe speaks plain http
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if PRODUCTION else None
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 365 * 86400 if PRODUCTION else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = PRODUCTION  # every store is a subdomain of the platform
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", PRODUCTION)  # eligible; submitting is a manual step

# Wagtail serves both consoles, so its apps are in both lists (same order in every schema).
WAGTAIL_APPS = [
    "wagtail.sites",
    "wagtail.users",
    "wagtail.snippets",
    "wagtail.documents",
    "wagtail.images",
    "wagtail.search",
    "wagtail.admin",
    "wagtail",
    "modelcluster",
    "taggit",
]

SHARED_APPS = [
    "django_tenants",
    "tenants",
    "core",
    "saas_platform.accounts",
    "saas_platform.console",
    "saas_platform.onboarding",
    "saas_platform.review",
    "saas_platform.miniprogram",
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    *WAGTAIL_APPS,
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI served from our static files (no CDN)
    "integrations.wechat",
    # Login failures are counted once per account, platform-wide: axes' tables are public only.
    "axes",
]

TENANT_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.messages",
    "saas_platform.accounts",
    "saas_platform.console",  # its migration tidies Wagtail's default groups in every schema
    *WAGTAIL_APPS,
    "builder",
    "mall.catalog",
    "mall.customers",
    "mall.promoters",
    "mall.orders",
    "mall.api",
    "mall.payments",
]

INSTALLED_APPS = SHARED_APPS + [app for app in TENANT_APPS if app not in SHARED_APPS]
if not PRODUCTION:  # developer tools (demo seed, emulator binding): never installed in production
    INSTALLED_APPS.append("tools.demo")

TENANT_MODEL = "tenants.Tenant"
TENANT_DOMAIN_MODEL = "tenants.Domain"
PUBLIC_SCHEMA_NAME = "public"
PUBLIC_SCHEMA_URLCONF = "config.urls_public"
ROOT_URLCONF = "config.urls_tenant"
# Fresh tenants are cloned from this migrated, empty schema (never created in a request).
TENANT_BASE_SCHEMA = "tpl_tenant"
TENANT_CREATION_FAKES_MIGRATIONS = True
TENANT_LIMIT_SET_CALLS = True  # set search_path once per request, not per cursor
SHOW_PUBLIC_IF_NO_TENANT_FOUND = False
TENANT_SPARE_POOL_SIZE = env_int("TENANT_SPARE_POOL_SIZE", 3)  # the pool's minimum
# The pool's target follows demand: sign-ups of the last WINDOW minutes × FACTOR, within [SIZE, MAX].
TENANT_SPARE_POOL_MAX = env_int("TENANT_SPARE_POOL_MAX", 30)
TENANT_SPARE_POOL_WINDOW_MINUTES = env_int("TENANT_SPARE_POOL_WINDOW_MINUTES", 10)
TENANT_SPARE_POOL_FACTOR = float(env("TENANT_SPARE_POOL_FACTOR", "1.0"))
PG_DUMP = env("PG_DUMP", "")  # pg_dump used to capture the template's DDL (default: PATH, then pgserver's)
TENANT_TRIAL_DAYS = 14
TENANT_CACHE_SECONDS = env_int("TENANT_CACHE_SECONDS", 5)  # host/AppID → tenant, per process
# How often a process reads the shared invalidation version (a suspension applies within this).
TENANT_VERSION_CHECK_SECONDS = float(env("TENANT_VERSION_CHECK_SECONDS", "0.5"))
DATABASE_ROUTERS = ("django_tenants.routers.TenantSyncRouter",)

MIDDLEWARE = [
    # Static files first: they are the same for every host and need no tenant lookup.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # The shopper API's 1 MB body limit, before the tenant lookup and before any parsing.
    "mall.api.middleware.ApiBodyLimitMiddleware",
    "config.middleware.TenantResolutionMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "saas_platform.console.wagtail_hooks.ConsoleScopeMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Redis/broker/database down: a clear 503 page (or API error), not a 500.
    "core.middleware.ServiceUnavailableMiddleware",
    # Last: turns a locked-out login (any form) into the lockout page.
    "axes.middleware.AxesMiddleware",
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
            ]
        },
    }
]

WSGI_APPLICATION = "config.wsgi.application"

# Database: DATABASE_URL, else the embedded pgserver started by `make run` / `make test`
# (infra/devstack.py writes the URL into the environment of every child process).
DATABASE_URL = env("DATABASE_URL")
if not DATABASE_URL:
    raise ImproperlyConfigured(
        "DATABASE_URL is not set. Use `make run` / `make test`, which start the embedded "
        "PostgreSQL, or point DATABASE_URL at a PostgreSQL server."
    )
_db = dj_database_url.parse(
    DATABASE_URL,
    conn_max_age=env_int("DB_CONN_MAX_AGE", 300),
    conn_health_checks=True,
)
_db["ENGINE"] = "django_tenants.postgresql_backend"
# A PostgreSQL that does not answer fails a request instead of hanging it: connect within
# DB_CONNECT_TIMEOUT s, and no statement runs longer than DB_STATEMENT_TIMEOUT_MS (0 = off).
_db.setdefault("OPTIONS", {})["connect_timeout"] = env_int("DB_CONNECT_TIMEOUT", 5)
if env_int("DB_STATEMENT_TIMEOUT_MS", 60_000):
    _db["OPTIONS"]["options"] = f"-c statement_timeout={env_int('DB_STATEMENT_TIMEOUT_MS', 60_000)}"
_db.setdefault("TEST", {})["NAME"] = env("TEST_DATABASE_NAME", "test_fenxiao")
DATABASES = {"default": _db}

REDIS_URL = env("REDIS_URL")
if not REDIS_URL:
    raise ImproperlyConfigured("REDIS_URL is not set. Use `make run` / `make test`, or point REDIS_URL at Redis.")
CACHE_URL = env("CACHE_URL", REDIS_URL)
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": CACHE_URL,
        # Every key starts with the active schema: tenants never share a cache entry.
        "KEY_FUNCTION": "django_tenants.cache.make_key",
        "REVERSE_KEY_FUNCTION": "django_tenants.cache.reverse_key",
        "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
    }
}

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    # Every login form (platform, /staff/login/, /console/login/) goes through these, in order.
    "axes.backends.AxesStandaloneBackend",
    "saas_platform.accounts.throttle.LoginRateBackend",
    "saas_platform.accounts.backends.PhoneOrUsernameBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "accounts:home"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True
WAGTAILADMIN_PERMITTED_LANGUAGES = LANGUAGES

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# Development and tests serve straight from the apps; production serves `collectstatic` output.
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG
MEDIA_ROOT = Path(env("MEDIA_ROOT", str(BASE_DIR / ".data" / "media")))
MEDIA_URL = "/files/"

# Object storage: filesystem by default, S3 (boto3 via django-storages) when configured.
# Either way every key is prefixed by the tenant's schema (core.storage.TenantStorage).
STORAGE_BACKEND = env("STORAGE_BACKEND", "filesystem")
if STORAGE_BACKEND == "s3":
    _inner_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env("S3_BUCKET", "fenxiao"),
            "endpoint_url": env("S3_ENDPOINT_URL"),
            "access_key": env("S3_ACCESS_KEY_ID"),
            "secret_key": env("S3_SECRET_ACCESS_KEY"),
            "region_name": env("S3_REGION", "cn-north-1"),
            "default_acl": "private",
            "querystring_auth": True,
            "file_overwrite": False,
        },
    }
else:
    _inner_storage = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(MEDIA_ROOT)},
    }
STORAGES = {
    "default": {"BACKEND": "core.storage.TenantStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
TENANT_INNER_STORAGE = _inner_storage
PRIVATE_FILE_LINK_SECONDS = env_int("PRIVATE_FILE_LINK_SECONDS", 300)

# Celery: tenant-aware (tenant-schemas-celery); the broker is Redis.
CELERY_BROKER_URL = env("CELERY_BROKER_URL", REDIS_URL)
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = TIME_ZONE
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Publishing must fail fast when the broker is down: the outbox keeps the message.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": 3600,
    "socket_connect_timeout": 2,
    "socket_timeout": 5,
    "max_retries": 1,
}
CELERY_BEAT_SCHEDULE = {
    "outbox-relay": {"task": "core.relay_outbox", "schedule": env_int("OUTBOX_RELAY_SECONDS", 5)},
    "refill-spare-schemas": {"task": "tenants.refill_spare_pool", "schedule": 60.0},
    "licence-expiry": {"task": "review.check_licence_expiry", "schedule": 6 * 3600.0},
    # Shipped orders delivered more than OrderSettings.auto_complete_days ago → completed (per tenant).
    "complete-delivered-orders": {
        "task": "orders.complete_delivered_orders_everywhere",
        "schedule": float(env("ORDERS_AUTO_COMPLETE_SECONDS", "600")),
    },
    # Per store: cancel expired unpaid orders, query WeChat Pay about late notifies.
    "unpaid-orders": {"task": "payments.settle_unpaid_orders", "schedule": env_int("UNPAID_ORDERS_SECONDS", 60)},
    "low-stock-notices": {"task": "catalog.notice_low_stock", "schedule": env_int("LOW_STOCK_NOTICE_SECONDS", 600)},
    # Per store: ask the carrier about parcels silent for TRACKING_REQUERY_HOURS (a lost push).
    "tracking-requery": {
        "task": "orders.requery_tracking_everywhere",
        "schedule": float(env("TRACKING_REQUERY_BEAT_SECONDS", "3600")),
    },
    # Per store: settle due commission, query open transfers, promoter grades (mall.promoters.tasks).
    "distribution": {
        "task": "promoters.run_distribution_everywhere",
        "schedule": float(env("DISTRIBUTION_BEAT_SECONDS", "600")),
    },
    # Rule-based shopper tags ("frequent buyer"), recomputed per store (mall.customers.tasks).
    "customer-rule-tags": {"task": "customers.recompute_rule_tags_everywhere", "schedule": 6 * 3600.0},
}
CELERY_IMPORTS = ["mall.orders.shipping_tasks"]
OUTBOX_RESEND_AFTER_SECONDS = env_int("OUTBOX_RESEND_AFTER_SECONDS", 60)
# /healthz answers within this plus its own overhead (the promise is 2 s: up to ~0.5 s of overhead
# was measured on a loaded 2-core machine, so the checks get 1.2 s).
HEALTH_TIMEOUT_SECONDS = float(env("HEALTH_TIMEOUT_SECONDS", "1.2"))
# Failed handler runs are retried after BASE × 2^(n-1) s (at most MAX s); after MAX_ATTEMPTS runs the
# message is parked for staff (/staff/outbox/). An external handler's claim lasts LEASE s.
OUTBOX_MAX_ATTEMPTS = env_int("OUTBOX_MAX_ATTEMPTS", 8)
OUTBOX_RETRY_BASE_SECONDS = float(env("OUTBOX_RETRY_BASE_SECONDS", "10"))
OUTBOX_RETRY_MAX_SECONDS = float(env("OUTBOX_RETRY_MAX_SECONDS", "3600"))
OUTBOX_LEASE_SECONDS = env_int("OUTBOX_LEASE_SECONDS", 120)
# Subscribers of ``mall.orders.hooks.order_line_refunded`` (dotted names of outbox handlers,
# comma-separated in the environment): each gets one message per refunded order line.
# The distribution engine subscribes to both (mall.promoters.commission).
ORDER_LINE_REFUNDED_HANDLERS = [
    h.strip()
    for h in env("ORDER_LINE_REFUNDED_HANDLERS", "mall.promoters.commission.commission_refunded_line").split(",")
    if h.strip()
]
ORDER_PAID_HANDLERS = [
    h.strip()
    for h in env("ORDER_PAID_HANDLERS", "mall.promoters.commission.commission_paid_order").split(",")
    if h.strip()
]

# Onboarding and review (saas_platform/onboarding, saas_platform/review).
SMS_BACKEND = env("SMS_BACKEND", "integrations.sms.backends.ConsoleSender")
SMS_FILE_PATH = env("SMS_FILE_PATH", str(BASE_DIR / ".data" / "sms.jsonl"))
SMS_LIMIT_PER_PHONE_DAY = env_int("SMS_LIMIT_PER_PHONE_DAY", 10)
SMS_LIMIT_PER_IP_HOUR = env_int("SMS_LIMIT_PER_IP_HOUR", 20)
SMS_VERIFY_LIMIT_PER_IP_HOUR = env_int("SMS_VERIFY_LIMIT_PER_IP_HOUR", 60)  # sign-up/reset submissions
# These senders log, write a file or keep messages in memory: no SMS reaches a phone.
SMS_DEVELOPMENT_SENDERS = {
    "integrations.sms.backends.ConsoleSender",
    "integrations.sms.backends.FileSender",
    "integrations.sms.backends.MemorySender",
}
# The production sender (integrations.sms.backends.HttpSender): an SMS gateway over HTTPS.
SMS_HTTP_URL = env("SMS_HTTP_URL", "")
SMS_HTTP_TOKEN = env("SMS_HTTP_TOKEN", "")
SMS_HTTP_CONNECT_TIMEOUT = float(env("SMS_HTTP_CONNECT_TIMEOUT", "3"))
SMS_HTTP_READ_TIMEOUT = float(env("SMS_HTTP_READ_TIMEOUT", "10"))
if PRODUCTION and SMS_BACKEND in SMS_DEVELOPMENT_SENDERS:
    raise ImproperlyConfigured(
        f"Refusing to start in production: SMS_BACKEND is the development sender {SMS_BACKEND}; "
        "set it to a real SMS sender (e.g. integrations.sms.backends.HttpSender with SMS_HTTP_URL)"
    )
if PRODUCTION and SMS_BACKEND == "integrations.sms.backends.HttpSender" and not SMS_HTTP_URL.startswith("https://"):
    raise ImproperlyConfigured("Refusing to start in production: SMS_HTTP_URL must be an https:// URL")
LOGIN_MAX_FAILURES = env_int("LOGIN_MAX_FAILURES", 5)  # then the account is locked …
LOGIN_LOCKOUT_SECONDS = env_int("LOGIN_LOCKOUT_SECONDS", 900)  # … for this long
LOGIN_LIMIT_PER_IP = env_int("LOGIN_LIMIT_PER_IP", 30)  # attempts per IP per 10 minutes
# django-axes (saas_platform/accounts/throttle.py): one failure counter per account.
AXES_FAILURE_LIMIT = LOGIN_MAX_FAILURES
AXES_COOLOFF_TIME = timedelta(seconds=LOGIN_LOCKOUT_SECONDS)
AXES_LOCKOUT_PARAMETERS = ["username"]  # the account (per IP: LoginRateBackend)
AXES_USERNAME_CALLABLE = "saas_platform.accounts.throttle.account_key"
AXES_LOCKOUT_CALLABLE = "saas_platform.accounts.throttle.lockout_response"
AXES_RESET_ON_SUCCESS = True
AXES_IPWARE_META_PRECEDENCE_ORDER = ("REMOTE_ADDR",)  # never trust a client's X-Forwarded-For
AXES_VERBOSE = False
# axes.W006 wants ip_address in the lockout parameters: per-IP attempts are limited by
# LoginRateBackend instead (locking an IP out after 5 failures would lock out a whole office).
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
QUALIFICATION_MAX_BYTES = env_int("QUALIFICATION_MAX_BYTES", 10 * 1024 * 1024)
LICENCE_REMINDER_DAYS = env_int("LICENCE_REMINDER_DAYS", 30)
DATA_UPLOAD_MAX_MEMORY_SIZE = 12 * 1024 * 1024
# The console previews the store (same host) in a phone frame, and Wagtail previews pages in an
# iframe: frames must be same-origin, not DENY. security.W019 is silenced for that reason; the
# CSP's `frame-ancestors 'self'` below guards framing as well (and wins in every current browser).
X_FRAME_OPTIONS = "SAMEORIGIN"
SILENCED_SYSTEM_CHECKS += ["security.W019"]

# Content Security Policy (django-csp), in every environment so the tests run under it.
# Scripts and styles only from our own origin (no CDN: /api/docs/ is served from static files).
# 'unsafe-inline' stays for scripts and styles because Wagtail's admin (inline panels, date
# widgets, previews) and the console shell use inline <script> blocks, style attributes and a
# few inline handlers; a CSP that breaks the consoles would be worse than none. What it still
# stops: scripts, styles, frames and connections from any other origin, <object>, <base>
# rewriting, and framing by other sites.
_csp_img = ["'self'", "data:", "blob:"]
if STORAGE_BACKEND == "s3" and env("S3_ENDPOINT_URL"):
    _csp_img.append(env("S3_ENDPOINT_URL").rstrip("/"))  # signed links to stored images
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'", "'unsafe-inline'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": _csp_img,
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "frame-src": ["'self'"],
        "frame-ancestors": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
    }
}
# Wagtail's admin would otherwise load Gravatar images and call releases.wagtail.io from the
# browser: both outside the CSP, and both often unreachable from China.
WAGTAIL_GRAVATAR_PROVIDER_URL = None
WAGTAIL_ENABLE_UPDATE_CHECK = False
SHOPPER_TOKEN_DAYS = env_int("SHOPPER_TOKEN_DAYS", 30)
# The uni-app storefront's H5 build, served at /h5/ on every store's host (mall/storefront_views).
STOREFRONT_H5_DIR = env("STOREFRONT_H5_DIR", str(BASE_DIR / "storefront" / "dist" / "build" / "h5"))

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "mall.api.schema.ApiAutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "EXCEPTION_HANDLER": "mall.api.errors.exception_handler",
    "DEFAULT_PAGINATION_CLASS": "mall.api.pagination.ApiPagination",
    "PAGE_SIZE": 20,
    "UNAUTHENTICATED_USER": None,
}
if PRODUCTION:  # no browsable API in production: JSON only
    REST_FRAMEWORK["DEFAULT_RENDERER_CLASSES"] = ["rest_framework.renderers.JSONRenderer"]
API_MAX_BODY_BYTES = env_int("API_MAX_BODY_BYTES", 1024 * 1024)  # shopper API (mall.api.middleware)
API_MAX_JSON_DEPTH = 32  # nesting levels of a request body (mall.api.parsers)
API_MAX_PAGE_SIZE = 100  # ?limit= above this is cut to it (mall.api.pagination)
SPECTACULAR_SETTINGS = {
    "TITLE": "Fenxiao Cloud public API",
    "DESCRIPTION": "The mini-program / H5 storefront API. Send `X-WX-AppID` on the shared API host.",
    "VERSION": "1.0.0",
    "PREPROCESSING_HOOKS": ["mall.api.schema.only_api_paths"],
    "SERVE_INCLUDE_SCHEMA": False,
    # /api/docs/ works offline (a CDN is often blocked in China): Swagger UI from static files.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # One name for each choice set shared by several serializers' fields called "kind".
    "ENUM_NAME_OVERRIDES": {
        "ProductKindEnum": "mall.catalog.models.ProductKind.choices",
        "RefundKindEnum": "mall.payments.models.RefundKind.choices",
    },
}

WAGTAIL_SITE_NAME = "分销云"
WAGTAILADMIN_BASE_URL = f"{PUBLIC_SCHEME}://{PLATFORM_DOMAIN}:{PUBLIC_PORT}"
WAGTAILDOCS_SERVE_METHOD = "serve_view"
WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "wagtail.search.backends.database"}}
WAGTAIL_I18N_ENABLED = False
# Console users log in through the platform (SMS password reset there); Wagtail's e-mail reset is off.
WAGTAIL_PASSWORD_RESET_ENABLED = False
# Console links from the platform host are valid this long and only once.
CONSOLE_LINK_MAX_AGE = env_int("CONSOLE_LINK_MAX_AGE", 60)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}, "django_tasks": {"level": "WARNING"}},
}

# WeChat (integrations/wechat; docs/wechat.md). Production sets the real hosts' credentials;
# `make run` and the tests point these at the local emulator (keys generated at start, never
# committed). Keys come inline (`…_KEY`) or from a file (`…_KEY_FILE`).
WECHAT_API_BASE_URL = env("WECHAT_API_BASE_URL", "https://api.weixin.qq.com")
WECHAT_AUTHORIZE_PAGE_URL = env("WECHAT_AUTHORIZE_PAGE_URL", "https://mp.weixin.qq.com/cgi-bin/componentloginpage")
WECHAT_PAY_BASE_URL = env("WECHAT_PAY_BASE_URL", "https://api.mch.weixin.qq.com")
WECHAT_COMPONENT_APPID = env("WECHAT_COMPONENT_APPID", "")
WECHAT_COMPONENT_APPSECRET = env("WECHAT_COMPONENT_APPSECRET", "")
WECHAT_COMPONENT_TOKEN = env("WECHAT_COMPONENT_TOKEN", "")
WECHAT_COMPONENT_AES_KEY = env("WECHAT_COMPONENT_AES_KEY", "")
# Where the open-platform client keeps each authorizer's tokens (the mini-program binding app).
WECHAT_AUTHORIZER_TOKENS = "saas_platform.miniprogram.tokens.AuthorizerTokens"
WECHAT_PAY_MCHID = env("WECHAT_PAY_MCHID", "")
WECHAT_PAY_APPID = env("WECHAT_PAY_APPID", "")  # AppID for Native (PC QR) payments
WECHAT_PAY_APIV3_KEY = env("WECHAT_PAY_APIV3_KEY", "")
WECHAT_PAY_CERT_SERIAL_NO = env("WECHAT_PAY_CERT_SERIAL_NO", "")
WECHAT_PAY_PRIVATE_KEY = env("WECHAT_PAY_PRIVATE_KEY", "")
WECHAT_PAY_PRIVATE_KEY_FILE = env("WECHAT_PAY_PRIVATE_KEY_FILE", "")
WECHAT_PAY_PUBLIC_KEY_ID = env("WECHAT_PAY_PUBLIC_KEY_ID", "")
WECHAT_PAY_PUBLIC_KEY = env("WECHAT_PAY_PUBLIC_KEY", "")
WECHAT_PAY_PUBLIC_KEY_FILE = env("WECHAT_PAY_PUBLIC_KEY_FILE", "")
WECHAT_TRANSFER_SCENE_ID = env("WECHAT_TRANSFER_SCENE_ID", "1005")
# Pay notifies signed more than this far from now are refused (replays); platform certificates
# are re-fetched for an unknown Wechatpay-Serial at most this often (integrations/wechat/pay.py).
WECHAT_PAY_NOTIFY_MAX_SKEW_SECONDS = 300
WECHAT_PAY_CERT_REFRESH_SECONDS = env_int("WECHAT_PAY_CERT_REFRESH_SECONDS", 60)
# Where WeChat reaches us: pushes and notifies go to the platform host.
WECHAT_NOTIFY_BASE_URL = env("WECHAT_NOTIFY_BASE_URL", f"{PUBLIC_SCHEME}://{PLATFORM_DOMAIN}:{PUBLIC_PORT}")
WECHAT_CONNECT_TIMEOUT = float(env("WECHAT_CONNECT_TIMEOUT", "3"))
WECHAT_READ_TIMEOUT = float(env("WECHAT_READ_TIMEOUT", "10"))
WECHAT_RETRIES = env_int("WECHAT_RETRIES", 2)
WECHAT_RETRY_BACKOFF = float(env("WECHAT_RETRY_BACKOFF", "0.3"))
WECHAT_EMULATOR_URL = env("WECHAT_EMULATOR_URL", "")  # development only: linked from the console
if PRODUCTION and WECHAT_EMULATOR_URL:
    raise ImproperlyConfigured("Refusing to start in production: WECHAT_EMULATOR_URL is a development setting")

# Parcel tracking (integrations/logistics; a Kuaidi100/Cainiao-style API). `make run` and the
# tests point it at tools/carrier_emulator. Pushes come to LOGISTICS_CALLBACK_BASE_URL
# (the platform host) at /logistics/notify/<tenant id>/, signed with LOGISTICS_KEY.
LOGISTICS_API_BASE = env("LOGISTICS_API_BASE", "")
LOGISTICS_KEY = env("LOGISTICS_KEY", "")
LOGISTICS_CUSTOMER = env("LOGISTICS_CUSTOMER", "")
LOGISTICS_CALLBACK_BASE_URL = env("LOGISTICS_CALLBACK_BASE_URL", f"{PUBLIC_SCHEME}://{PLATFORM_DOMAIN}:{PUBLIC_PORT}")
LOGISTICS_CONNECT_TIMEOUT = float(env("LOGISTICS_CONNECT_TIMEOUT", "3"))
LOGISTICS_READ_TIMEOUT = float(env("LOGISTICS_READ_TIMEOUT", "10"))
LOGISTICS_RETRIES = env_int("LOGISTICS_RETRIES", 2)
LOGISTICS_RETRY_BACKOFF = float(env("LOGISTICS_RETRY_BACKOFF", "0.3"))
# A parcel not delivered and silent this long (no push, no query) is queried by the beat, for
# parcels shipped within the last TRACKING_REQUERY_MAX_DAYS days.
TRACKING_REQUERY_HOURS = float(env("TRACKING_REQUERY_HOURS", "6"))
TRACKING_REQUERY_MAX_DAYS = env_int("TRACKING_REQUERY_MAX_DAYS", 30)
LOGISTICS_PUSH_MAX_SKEW_SECONDS = 300

# Console shell (issue 9): no Wagtail upgrade check, "what's new" banner, comments or workflows;
# times are entered and shown in the platform's zone. (The update check is off above.)
WAGTAIL_ENABLE_WHATS_NEW_BANNER = False
WAGTAILADMIN_COMMENTS_ENABLED = False
WAGTAIL_WORKFLOW_ENABLED = False
WAGTAIL_USER_TIME_ZONES = [TIME_ZONE]
WAGTAILADMIN_USER_LOGIN_FORM = "saas_platform.console.forms.ConsoleLoginForm"

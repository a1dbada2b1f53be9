"""The Celery application. Tenant-aware: a task sent inside a tenant's context runs in
that tenant's schema (tenant-schemas-celery); one sent outside runs in ``public``."""

import os

from tenant_schemas_celery.app import CeleryApp

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = CeleryApp("fenxiao")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

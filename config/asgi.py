# Tenant code stays on WSGI (django-tenants loses the schema in async ORM paths); this
# module exists so tools that expect it find it.
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_asgi_application()

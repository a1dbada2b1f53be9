"""Console scope (shared kernel). Wagtail's hooks are global, but the staff console (/staff/, public schema) and the
merchant console (/console/, a tenant schema) show different things. Each admin viewset
says which side it belongs to; menus are filtered and the other side's URLs answer 404."""

from django.db import connection

STAFF_ONLY_PREFIXES: set[str] = set()
MERCHANT_ONLY_PREFIXES: set[str] = set()


def on_staff_side() -> bool:
    return connection.schema_name == "public"


def staff_only(viewset):
    STAFF_ONLY_PREFIXES.add(viewset.url_prefix)
    return viewset


def merchant_only(viewset):
    MERCHANT_ONLY_PREFIXES.add(viewset.url_prefix)
    return viewset


def hidden_prefixes() -> set[str]:
    return MERCHANT_ONLY_PREFIXES if on_staff_side() else STAFF_ONLY_PREFIXES


# --- doors around actions (house rule 12) ----------------------------------------------------


def action_only_policy(model, *, allow: frozenset[str] = frozenset({"view"})):
    """A Wagtail permission policy for a model whose state changes only through actions
    (a lifecycle, an audit trail, a ledger): generic add/change/delete are refused to everyone,
    superusers included; ``view`` (the listing and the read-only detail) follows the user's
    group permissions. Registered for the model with ``wagtail.permissions.register_permission_policy``."""
    from wagtail.permission_policies import ModelPermissionPolicy

    class ActionOnlyPolicy(ModelPermissionPolicy):
        allowed_actions = allow

        def user_has_permission(self, user, action):
            return action in self.allowed_actions and super().user_has_permission(user, action)

        def user_has_permission_for_instance(self, user, action, instance):
            return self.user_has_permission(user, action)

        def users_with_any_permission(self, actions):
            actions = [a for a in actions if a in self.allowed_actions]
            if not actions:
                from django.contrib.auth import get_user_model

                return get_user_model().objects.none()
            return super().users_with_any_permission(actions)

        def instances_user_has_any_permission_for(self, user, actions):
            if not any(a in self.allowed_actions for a in actions):
                return self.model._default_manager.none()
            return super().instances_user_has_any_permission_for(user, actions)

    from wagtail.permissions import register_permission_policy

    policy = ActionOnlyPolicy(model)
    register_permission_policy(model, policy, exact_class=True)
    return policy


def require_perm(*perms: str):
    """View decorator for console action views: 403 unless the user holds every permission."""
    from functools import wraps

    from django.core.exceptions import PermissionDenied

    def decorate(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.is_authenticated or not request.user.has_perms(perms):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorate


def PermissionMenuItem(*args, perm: str, **kwargs):  # noqa: N802 (a class factory)
    """A Wagtail menu item shown only to users holding ``perm``."""
    from wagtail.admin.menu import MenuItem

    class _Item(MenuItem):
        def is_shown(self, request):
            return request.user.has_perm(perm)

    return _Item(*args, **kwargs)

"""Staff console (/staff/outbox/): the outbox, read-only, with a "replay" button on parked
messages (``core.outbox.replay``). No add, edit or delete for anyone."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from wagtail import hooks
from wagtail.admin.ui.menus import MenuItem
from wagtail.admin.views.generic import IndexView, InspectView
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.admin.widgets import Button
from wagtail.permission_policies import ModelPermissionPolicy
from wagtail.permissions import register_permission_policy

from core import console as scope
from core import outbox
from core.models import OutboxMessage, OutboxStatus


class ReadOnlyPolicy(ModelPermissionPolicy):
    """View (and the model's own extra permissions, e.g. ``replay``) only: the rows change
    through actions, never through a generic form."""

    def user_has_permission(self, user, action):
        if action in ("add", "change", "delete"):
            return False
        return super().user_has_permission(user, action)


outbox_policy = ReadOnlyPolicy(OutboxMessage)
register_permission_policy(OutboxMessage, outbox_policy)


def can_replay(user) -> bool:
    return outbox_policy.user_has_permission(user, "replay")


class OutboxIndexView(IndexView):
    def get_list_more_buttons(self, instance):
        buttons = list(super().get_list_more_buttons(instance))
        if instance.status == OutboxStatus.PARKED and can_replay(self.request.user):
            buttons.append(
                MenuItem(
                    _("重放"), url=reverse("core_outbox:replay", args=[instance.pk]), icon_name="resubmit", priority=5
                )
            )
        return buttons


class OutboxInspectView(InspectView):
    def get_header_more_buttons(self):
        buttons = list(super().get_header_more_buttons())
        if self.object.status == OutboxStatus.PARKED and can_replay(self.request.user):
            buttons.append(
                Button(_("重放"), url=reverse("core_outbox:replay", args=[self.object.pk]), icon_name="resubmit")
            )
        return buttons


class OutboxViewSet(ModelViewSet):
    model = OutboxMessage
    icon = "resubmit"
    menu_label = gettext_lazy("外发消息")
    menu_order = 900
    add_to_admin_menu = True
    url_prefix = "outbox"
    index_view_class = OutboxIndexView
    inspect_view_class = OutboxInspectView
    list_display = ["id", "handler", "schema_name", "status", "attempts", "next_attempt_at", "created", "last_error"]
    list_filter = ["status", "handler"]
    search_fields = ["handler", "schema_name", "last_error"]
    ordering = ["-pk"]
    create_view_enabled = False
    inspect_view_enabled = True
    copy_view_enabled = False
    form_fields = ["last_error"]  # required by ModelViewSet; the edit view is denied by the policy

    def get_urlpatterns(self):
        return [*super().get_urlpatterns(), path("replay/<int:pk>/", replay_view, name="replay")]


outbox_viewset = scope.staff_only(OutboxViewSet("core_outbox"))


def replay_view(request, pk: int):
    if not can_replay(request.user):
        raise PermissionDenied
    message = get_object_or_404(OutboxMessage, pk=pk)
    errors = []
    if request.method == "POST":
        try:
            outbox.replay(message_id=message.pk, actor=request.user)
        except ValidationError as exc:
            errors = exc.messages
        else:
            messages.success(request, _("已重放：%(msg)s") % {"msg": message})
            return redirect("core_outbox:index")
    return render(
        request,
        "core/outbox_replay.html",
        {
            "message": message,
            "errors": errors,
            "index_url": reverse("core_outbox:index"),
            "page_title": _("重放外发消息 #%(pk)s") % {"pk": message.pk},
        },
    )


@hooks.register("register_admin_viewset")
def register_outbox():
    return outbox_viewset

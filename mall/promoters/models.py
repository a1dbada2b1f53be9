from django.db import models
from django.utils.translation import gettext_lazy as _

from mall.customers.models import Customer


class PromoterStatus(models.TextChoices):
    ACTIVE = "active", _("正常")
    FROZEN = "frozen", _("已冻结")


class Promoter(models.Model):
    """A shopper who promotes the store. ``parent`` is the only relation stored: the level-2
    upline is the parent's parent, and no deeper level is ever read or paid."""

    customer = models.OneToOneField(Customer, verbose_name=_("顾客"), on_delete=models.PROTECT, related_name="promoter")
    parent = models.ForeignKey(
        "self", verbose_name=_("上级推广员"), on_delete=models.PROTECT, null=True, blank=True, related_name="children"
    )
    invite_code = models.CharField(_("邀请码"), max_length=12, unique=True)
    status = models.CharField(
        _("状态"), max_length=16, choices=PromoterStatus.choices, default=PromoterStatus.ACTIVE, editable=False
    )
    joined_at = models.DateTimeField(_("加入时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("推广员")
        verbose_name_plural = _("推广员")
        ordering = ["-joined_at"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(parent=models.F("pk")),
                name="promoters_not_own_parent",
                violation_error_message=_("推广员不能是自己的上级。"),
            )
        ]

    def __str__(self) -> str:
        return f"{self.customer} [{self.invite_code}]"

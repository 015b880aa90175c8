"""The audit trail: who did what, where and when, with namespaced codes (tongban.case.accepted)."""

from django.db import models


class AuditEntry(models.Model):
    code = models.CharField("事件代码", max_length=64, db_index=True)
    node = models.CharField("节点", max_length=6, db_index=True)
    actor = models.CharField("操作人", max_length=150, blank=True)
    role = models.CharField("角色", max_length=16, blank=True)
    at = models.DateTimeField("时间")
    object_type = models.CharField("对象类型", max_length=32)
    object_id = models.CharField("对象标识", max_length=64, db_index=True)
    data = models.JSONField("内容", default=dict, blank=True)

    class Meta:
        verbose_name = "审计记录"
        verbose_name_plural = "审计记录"
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.code} {self.object_id}"

"""Outbox and inbox: every cross-node step is an envelope, written with the change that caused it."""

from django.db import models


class OutboxMessage(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "待发送"
        SENT = "sent", "已送达"
        FAILED = "failed", "发送失败"
        DEAD = "dead", "死信"

    message_id = models.UUIDField("消息标识", unique=True)
    type = models.CharField("消息类型", max_length=48)
    from_node = models.CharField("发送节点", max_length=6, db_index=True)
    to_node = models.CharField("接收节点", max_length=6)
    case_no = models.CharField("办件编号", max_length=32, blank=True, db_index=True)
    correlation_id = models.UUIDField("关联标识")
    schema_version = models.PositiveSmallIntegerField("结构版本", default=1)
    created_at = models.DateTimeField("创建时间")
    payload = models.JSONField("内容")
    status = models.CharField("状态", max_length=8, choices=Status.choices, default=Status.PENDING, db_index=True)
    attempts = models.PositiveIntegerField("发送次数", default=0)
    next_attempt_at = models.DateTimeField("下次发送时间", null=True, blank=True)
    sent_at = models.DateTimeField("送达时间", null=True, blank=True)
    last_error = models.CharField("最近错误", max_length=255, blank=True)

    class Meta:
        verbose_name = "发件箱消息"
        verbose_name_plural = "发件箱消息"
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.type} {self.from_node}→{self.to_node} {self.case_no}"


class InboxMessage(models.Model):
    class Status(models.TextChoices):
        RECEIVED = "received", "已接收"
        APPLIED = "applied", "已处理"
        FAILED = "failed", "处理失败"

    message_id = models.UUIDField("消息标识")
    node = models.CharField("接收节点", max_length=6)
    type = models.CharField("消息类型", max_length=48)
    from_node = models.CharField("发送节点", max_length=6)
    case_no = models.CharField("办件编号", max_length=32, blank=True, db_index=True)
    correlation_id = models.UUIDField("关联标识")
    schema_version = models.PositiveSmallIntegerField("结构版本", default=1)
    created_at = models.DateTimeField("创建时间")
    received_at = models.DateTimeField("接收时间")
    applied_at = models.DateTimeField("处理时间", null=True, blank=True)
    payload = models.JSONField("内容")
    status = models.CharField("状态", max_length=8, choices=Status.choices, default=Status.RECEIVED, db_index=True)
    attempts = models.PositiveIntegerField("处理次数", default=0)
    next_attempt_at = models.DateTimeField("下次处理时间", null=True, blank=True)
    last_error = models.CharField("最近错误", max_length=255, blank=True)

    class Meta:
        verbose_name = "收件箱消息"
        verbose_name_plural = "收件箱消息"
        ordering = ["id"]
        # Exactly once: a node records a message id once; a duplicate delivery is ignored.
        constraints = [models.UniqueConstraint(fields=["node", "message_id"], name="uniq_inbox_message")]

    def __str__(self) -> str:
        return f"{self.type} {self.from_node}→{self.node} {self.case_no}"


class Exchange(models.Model):
    """A message that expects an answer, tracked by its sender until it ends: answered, failed with a
    listed error, or timed out — never silence."""

    class State(models.TextChoices):
        PENDING = "pending", "待发送"
        SENT = "sent", "已发送"
        ANSWERED = "answered", "已答复"
        FAILED = "failed", "已拒绝"
        TIMED_OUT = "timed_out", "已超时"

    message_id = models.UUIDField("消息标识", unique=True)
    type = models.CharField("消息类型", max_length=48)
    from_node = models.CharField("发送节点", max_length=6, db_index=True)
    to_node = models.CharField("接收节点", max_length=6)
    case_no = models.CharField("办件编号", max_length=32, blank=True, db_index=True)
    state = models.CharField("状态", max_length=10, choices=State.choices, default=State.PENDING, db_index=True)
    created_at = models.DateTimeField("发起时间")
    deadline = models.DateTimeField("答复期限")
    ended_at = models.DateTimeField("结束时间", null=True, blank=True)
    error_code = models.CharField("错误代码", max_length=48, blank=True)
    error_detail = models.CharField("错误说明", max_length=255, blank=True)
    attempts = models.PositiveIntegerField("发起次数", default=1)

    class Meta:
        verbose_name = "跨节点交换"
        verbose_name_plural = "跨节点交换"
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.type} {self.from_node}→{self.to_node} {self.case_no} {self.get_state_display()}"

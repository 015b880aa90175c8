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
    key_id = models.CharField("签名密钥", max_length=64, blank=True)
    signature = models.TextField("签名（Base64）", blank=True)
    user = models.CharField("操作人", max_length=150, blank=True)
    represented_party = models.CharField("代表的当事人", max_length=150, blank=True)

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
    # The signed record as received: the message log that proves what the sender sent.
    key_id = models.CharField("签名密钥", max_length=64, blank=True)
    signature = models.TextField("签名（Base64）", blank=True)
    user = models.CharField("操作人", max_length=150, blank=True)
    represented_party = models.CharField("代表的当事人", max_length=150, blank=True)

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


class NodeKey(models.Model):
    """A node's SM2 public key as the hub publishes it in the trust list."""

    class Status(models.TextChoices):
        ACTIVE = "active", "有效"
        REVOKED = "revoked", "已吊销"

    node = models.CharField("节点", max_length=6, db_index=True)
    key_id = models.CharField("密钥标识", max_length=64, unique=True)
    public_key = models.TextField("公钥（PEM）")
    valid_from = models.DateTimeField("生效时间")
    valid_until = models.DateTimeField("失效时间", null=True, blank=True)
    status = models.CharField("状态", max_length=8, choices=Status.choices, default=Status.ACTIVE)
    revoked_at = models.DateTimeField("吊销时间", null=True, blank=True)

    class Meta:
        verbose_name = "节点密钥"
        verbose_name_plural = "节点密钥（信任列表）"
        ordering = ["node", "-valid_from"]

    def __str__(self) -> str:
        return f"{self.node} {self.key_id[:16]} {self.get_status_display()}"


class NodeAddress(models.Model):
    """Where a node answers other nodes over HTTPS, as the hub publishes it in the trust list (like the
    security-server addresses in X-Road's global configuration)."""

    node = models.CharField("节点", max_length=6, unique=True)
    url = models.URLField("服务地址", max_length=200, help_text="节点的根地址，如 https://tongban.hebei.gov.cn")
    updated_at = models.DateTimeField("更新时间")

    class Meta:
        verbose_name = "节点地址"
        verbose_name_plural = "节点地址（信任列表）"
        ordering = ["node"]

    def __str__(self) -> str:
        return f"{self.node} {self.url}"


class TrustListDocument(models.Model):
    """A trust list as the hub signed it; every node keeps the newest one it has verified."""

    version = models.PositiveIntegerField("版本", unique=True)
    issued_at = models.DateTimeField("签发时间")
    document = models.TextField("内容（规范化 JSON）")
    signature = models.TextField("国家平台签名（Base64）")
    hub_key_id = models.CharField("签名密钥", max_length=64)
    fetched_at = models.DateTimeField("本节点获取时间")

    class Meta:
        verbose_name = "信任列表"
        verbose_name_plural = "信任列表"
        ordering = ["-version"]

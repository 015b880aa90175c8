"""Electronic licences (电子证照, GB/T 36901–36905). The issuing node keeps each licence; the hub keeps
an index of it (LicenceIndexEntry) without its contents."""

from __future__ import annotations

import uuid

from django.db import models

from tongban.regions.models import DepartmentFunction


class LicenceState(models.TextChoices):
    VALID = "01", "有效"
    SUSPENDED = "02", "暂扣"
    REVOKED = "03", "撤销"
    CANCELLED = "04", "注销"
    EXPIRED = "05", "失效"
    TRANSFERRED_OUT = "06", "办理转出"
    WITHDRAWN = "07", "吊销"
    OTHER = "99", "其他"


class LicenceOperation(models.TextChoices):
    ISSUE = "01", "新发"
    RENEW = "02", "延续"
    SUSPEND = "03", "暂扣"
    EXPIRE = "04", "过期失效"
    CANCEL = "05", "注销"
    RETURN = "06", "暂扣发还"
    OTHER = "07", "其他"
    TRANSFER_IN = "08", "转入"
    CHANGE = "09", "变更"
    CANCEL_TRANSFER_OUT = "10", "取消转出"


class HolderKind(models.TextChoices):
    PERSON = "person", "个人"
    ENTERPRISE = "enterprise", "企业"


HOLDER_KINDS = [("person", "个人"), ("enterprise", "企业"), ("parties", "共同申请的各方当事人")]


class LicenceType(models.Model):
    code = models.CharField("类型编码", max_length=32, primary_key=True)
    name = models.CharField("证照名称", max_length=64)
    type_code = models.CharField("证照类型代码（GB/T 36904）", max_length=21, unique=True)
    department_function = models.CharField("主管部门职能", max_length=16, choices=DepartmentFunction.choices)
    holder_kind = models.CharField("持证主体", max_length=12, choices=HOLDER_KINDS)
    extensions = models.JSONField("扩展字段（KZ_）", default=list)
    validity = models.JSONField("有效期规则", default=dict)
    source = models.CharField("来源", max_length=255)
    unverified = models.JSONField("未核实的内容", default=list, blank=True)
    notes = models.TextField("说明", blank=True)

    class Meta:
        verbose_name = "电子证照类型"
        verbose_name_plural = "电子证照类型"
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class Licence(models.Model):
    node = models.CharField("签发节点", max_length=6)
    identifier = models.CharField("证照标识", max_length=128, unique=True)
    licence_type = models.ForeignKey(LicenceType, verbose_name="证照类型", on_delete=models.PROTECT)
    number = models.CharField("证照编号", max_length=64)
    version = models.PositiveSmallIntegerField("版本号", default=1)
    issuer_department = models.ForeignKey(
        "regions.Department", verbose_name="颁发机构", on_delete=models.PROTECT, related_name="+"
    )
    issuer_name = models.CharField("颁发机构名称", max_length=128)
    issuer_code = models.CharField("颁发机构代码", max_length=18)
    case_no = models.CharField("办件编号", max_length=32, blank=True)
    item_code = models.CharField("事项编码", max_length=64, blank=True)
    operation = models.CharField("签发操作", max_length=2, choices=LicenceOperation.choices)
    previous = models.CharField("前序证照标识", max_length=128, blank=True)
    data = models.JSONField("照面信息（GB/T 36903）", default=dict)
    valid_from = models.DateField("有效期起始日期")
    valid_until = models.DateField("有效期截止日期", null=True, blank=True)
    issued_at = models.DateTimeField("颁发时间")
    state = models.CharField("状态", max_length=2, choices=LicenceState.choices, default=LicenceState.VALID)
    state_reason = models.TextField("状态说明", blank=True)
    state_changed_at = models.DateTimeField("状态时间")
    key_id = models.CharField("签名密钥", max_length=64)
    signature = models.TextField("SM2 签名（Base64）")

    class Meta:
        verbose_name = "电子证照"
        verbose_name_plural = "电子证照"
        indexes = [models.Index(fields=["node", "case_no"])]

    def __str__(self) -> str:
        return f"{self.licence_type.name} {self.number}"


class LicenceHolder(models.Model):
    licence = models.ForeignKey(Licence, verbose_name="证照", on_delete=models.CASCADE, related_name="holders")
    order = models.PositiveSmallIntegerField("顺序")
    kind = models.CharField("持证主体类型", max_length=12, choices=HolderKind.choices)
    label = models.CharField("称谓", max_length=16, blank=True)
    name = models.CharField("持证主体", max_length=128)
    id_kind = models.CharField("代码类型", max_length=16)
    # Indexed: a renewal or reissue finds the licence it replaces by its holder.
    id_number = models.CharField("持证主体代码", max_length=32, db_index=True)

    class Meta:
        verbose_name = "持证主体"
        verbose_name_plural = "持证主体"
        ordering = ["licence_id", "order"]
        constraints = [models.UniqueConstraint(fields=["licence", "order"], name="uniq_licence_holder_order")]


class LicenceEvent(models.Model):
    """Every operation on a licence, in order: issue, suspend, return, revoke, cancel, expire …"""

    licence = models.ForeignKey(Licence, verbose_name="证照", on_delete=models.CASCADE, related_name="events")
    operation = models.CharField("操作", max_length=2, choices=LicenceOperation.choices)
    at = models.DateTimeField("时间")
    actor = models.CharField("操作人", max_length=150)
    from_state = models.CharField("原状态", max_length=2, blank=True)
    to_state = models.CharField("新状态", max_length=2)
    reason = models.TextField("理由", blank=True)

    class Meta:
        verbose_name = "证照操作记录"
        verbose_name_plural = "证照操作记录"
        ordering = ["licence_id", "at", "id"]


class LicenceSerialCounter(models.Model):
    """Licence serials are unique per issuing body and year: <year><7 digits>."""

    issuer_code = models.CharField("颁发机构代码", max_length=18)
    year = models.PositiveSmallIntegerField("年份")
    last = models.PositiveIntegerField("已用序号", default=0)

    class Meta:
        verbose_name = "证照序号"
        verbose_name_plural = "证照序号"
        constraints = [models.UniqueConstraint(fields=["issuer_code", "year"], name="uniq_licence_serial")]


class LicenceIndexEntry(models.Model):
    """The hub's directory of every licence in the federation: where it is kept and its state, never
    its contents. Holders are found by a keyed SM3 hash of their ID number or credit code."""

    node = models.CharField("所在节点（枢纽）", max_length=6)
    identifier = models.CharField("证照标识", max_length=128)
    licence_type = models.CharField("证照类型", max_length=32)
    issuer_node = models.CharField("签发节点", max_length=6)
    state = models.CharField("状态", max_length=2, choices=LicenceState.choices)
    state_changed_at = models.DateTimeField("状态时间")
    # The number of operations on the licence when reported: a report with fewer never replaces one with more.
    revision = models.PositiveIntegerField("操作次数")
    valid_until = models.DateField("有效期截止日期", null=True, blank=True)
    indexed_at = models.DateTimeField("收录时间")
    # The issuer's signed report this entry was made from: any node checks the state against the
    # issuer's signature, not the hub's word.
    statement = models.JSONField("签发节点的签名报告", default=dict)

    class Meta:
        verbose_name = "证照目录条目"
        verbose_name_plural = "证照目录"
        constraints = [models.UniqueConstraint(fields=["node", "identifier"], name="uniq_licence_index_entry")]

    def __str__(self) -> str:
        return self.identifier


class LicenceIndexHolder(models.Model):
    entry = models.ForeignKey(
        LicenceIndexEntry, verbose_name="目录条目", on_delete=models.CASCADE, related_name="holders"
    )
    holder_key = models.CharField("持证主体索引（SM3-HMAC）", max_length=64, db_index=True)

    class Meta:
        verbose_name = "持证主体索引"
        verbose_name_plural = "持证主体索引"
        constraints = [models.UniqueConstraint(fields=["entry", "holder_key"], name="uniq_licence_index_holder")]


class LicenceStatusCache(models.Model):
    """A node's last confirmed state of a licence issued elsewhere, with the issuer's signed report."""

    node = models.CharField("节点", max_length=6)
    identifier = models.CharField("证照标识", max_length=128)
    statement = models.JSONField("签发节点的签名报告")
    confirmed_at = models.DateTimeField("确认时间")

    class Meta:
        verbose_name = "证照状态缓存"
        verbose_name_plural = "证照状态缓存"
        constraints = [models.UniqueConstraint(fields=["node", "identifier"], name="uniq_licence_status_cache")]


class LicenceUse(models.Model):
    """用证: a licence used in a case instead of paper, with its holders' consent.

    The case's node keeps one row per use (`case` set); once accepted it is the case's annotated copy
    (加注件), for that case only, and it travels with the case to the nodes that decide it. Where the
    licence was issued at another node, the issuing node keeps its own row of the same use (`case`
    empty, the same `ref`): the log the holder sees there."""

    class Status(models.TextChoices):
        REQUESTED = "requested", "等待签发机构答复"
        AWAITING_CONSENT = "awaiting_consent", "待持证人授权"
        RELEASING = "releasing", "已授权，等待签发机构提供证照"
        ACCEPTED = "accepted", "已授权使用"
        REFUSED = "refused", "持证人拒绝"
        FAILED = "failed", "未能取得证照"

    ref = models.UUIDField("用证编号", default=uuid.uuid4, db_index=True)
    node = models.CharField("节点", max_length=6)
    case = models.ForeignKey(
        "cases.Case", verbose_name="办件", on_delete=models.CASCADE, related_name="licence_uses", null=True, blank=True
    )
    case_no = models.CharField("办件编号", max_length=32)
    case_node = models.CharField("申请用证的节点", max_length=6)
    item_name = models.CharField("办理事项", max_length=128, blank=True)
    material_code = models.CharField("替代的材料", max_length=32)
    identifier = models.CharField("证照标识", max_length=128, blank=True)
    licence_type = models.CharField("证照类型", max_length=32)
    issuer_node = models.CharField("签发节点", max_length=6, blank=True)
    cause = models.CharField("用证事由", max_length=200)
    requested_by = models.CharField("申请人账号", max_length=150)
    requested_at = models.DateTimeField("申请时间")
    status = models.CharField("状态", max_length=20, choices=Status.choices, default=Status.AWAITING_CONSENT)
    # Exactly what will be shared: [{label, value}], shown to the holders before they decide.
    preview = models.JSONField("共享内容预览", default=list)
    # Holder keys still to consent, and each holder's answer {key: {by, at, accept}}.
    consents = models.JSONField("持证人授权", default=dict)
    decided_at = models.DateTimeField("授权时间", null=True, blank=True)
    # The signed licence as it travelled, and the 加注件 fields (GB/T 36903: JZJZZSJ, JZJZZZ, JZJZZSY, JZJYXQJZSJ).
    copy = models.JSONField("证照副本（含签名）", default=dict, blank=True)
    annotation = models.JSONField("加注信息", default=dict, blank=True)
    # The message to the issuing node still awaiting its answer; its failure or timeout ends the use.
    pending_message = models.UUIDField("待答复的消息", null=True, blank=True, db_index=True)
    error_code = models.CharField("未能取得的原因代码", max_length=64, blank=True)
    error_detail = models.CharField("未能取得的原因", max_length=255, blank=True)

    class Meta:
        verbose_name = "用证记录"
        verbose_name_plural = "用证记录"
        indexes = [models.Index(fields=["identifier"])]
        constraints = [
            models.UniqueConstraint(
                fields=["case", "material_code"],
                condition=~models.Q(status__in=["refused", "failed"]),
                name="uniq_open_licence_use_per_material",
            )
        ]

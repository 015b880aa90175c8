"""The case (办件). Each node keeps its own copy, keyed by (node, case_no); the append-only action
log is the truth and every other field on Case is a cache that `derive` recomputes from it."""

from __future__ import annotations

from django.db import models


class CaseStatus(models.TextChoices):
    DRAFT = "draft", "草稿"
    RECEIVED = "received", "已接件"
    FORM_CHECKED = "form_checked", "已形式审查"
    FORWARDED = "forwarded", "已转报属地"
    CORRECTION = "correction", "待补正"
    ACCEPTED = "accepted", "已受理"
    NOT_ACCEPTED = "not_accepted", "不予受理"
    IN_REVIEW = "in_review", "审查中"
    SPECIAL_PROCEDURE = "special_procedure", "特别程序"
    DECIDED = "decided", "已办结"
    SENT_TO_WINDOW = "sent_to_window", "结果已寄送受理窗口"
    DELIVERED = "delivered", "已送达"
    WITHDRAWN = "withdrawn", "已撤回"


class Warning(models.TextChoices):
    NONE = "", "正常"
    YELLOW = "yellow", "黄灯预警"
    RED = "red", "红牌超期"


class Case(models.Model):
    node = models.CharField("所在节点", max_length=6)
    case_no = models.CharField("办件编号", max_length=32)
    item = models.ForeignKey("catalog.Item", verbose_name="事项", on_delete=models.PROTECT)
    item_version = models.ForeignKey("catalog.ItemVersion", verbose_name="事项版本", on_delete=models.PROTECT)
    rules_date = models.DateField("规则适用日期")
    mode = models.CharField("办理模式", max_length=16)

    # The four jurisdiction facts.
    submitted_node = models.CharField("收件节点", max_length=6)
    submitted_department = models.ForeignKey(
        "regions.Department",
        verbose_name="收件窗口部门",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    submitted_by = models.CharField("收件人", max_length=150, blank=True)
    owner_node = models.CharField("属地节点", max_length=6)
    owner_department = models.ForeignKey(
        "regions.Department", verbose_name="属地部门", on_delete=models.PROTECT, related_name="+"
    )
    processing_node = models.CharField("当前办理节点", max_length=6)
    processing_department = models.ForeignKey(
        "regions.Department", verbose_name="当前办理部门", on_delete=models.PROTECT, related_name="+"
    )
    delivery_node = models.CharField("送达节点", max_length=6)
    participants = models.JSONField("参与节点", default=list)
    handler_departments = models.ManyToManyField(
        "regions.Department", verbose_name="经办部门", related_name="+", blank=True
    )

    # The applicant, denormalised: an account lives at the hub, not at every node.
    applicant_username = models.CharField("申请人账号", max_length=150, db_index=True)
    applicant_name = models.CharField("申请人", max_length=128)
    applicant_id_number = models.CharField("申请人证件号码", max_length=18, blank=True)
    enterprise_credit_code = models.CharField("企业统一社会信用代码", max_length=18, blank=True, db_index=True)
    enterprise_name = models.CharField("企业名称", max_length=128, blank=True)
    agent_username = models.CharField("经办人账号", max_length=150, blank=True)
    form_data = models.JSONField("表单数据", default=dict)
    facts = models.JSONField("管辖事实", default=dict, blank=True)
    rules_trace = models.JSONField("规则依据", default=list, blank=True)

    # Caches derived from the action log.
    status = models.CharField("状态", max_length=20, choices=CaseStatus.choices)
    outcome = models.CharField("办理结果", max_length=8, blank=True)
    received_at = models.DateTimeField("接件时间", null=True, blank=True)
    accepted_at = models.DateTimeField("受理时间", null=True, blank=True)
    decided_at = models.DateTimeField("办结时间", null=True, blank=True)
    owner_received_at = models.DateTimeField("属地收件时间", null=True, blank=True)
    acceptance_due = models.DateField("受理期限", null=True, blank=True)
    promised_due = models.DateField("承诺办结日期", null=True, blank=True)
    legal_due = models.DateField("法定办结日期", null=True, blank=True)
    due_provisional = models.BooleanField("期限为暂估", default=False)
    paused_working_days = models.PositiveIntegerField("暂停工作日", default=0)
    warning = models.CharField("预警", max_length=8, choices=Warning.choices, blank=True, default="")
    current_leg = models.PositiveSmallIntegerField("当前联办环节", null=True, blank=True)
    legs_state = models.JSONField("联办环节", default=list, blank=True)
    action_count = models.PositiveIntegerField("动作数", default=0)

    class Meta:
        verbose_name = "办件"
        verbose_name_plural = "办件"
        ordering = ["-received_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["node", "case_no"], name="uniq_case_per_node")]
        indexes = [
            models.Index(fields=["node", "status"]),
            models.Index(fields=["node", "processing_department"]),
        ]

    def __str__(self) -> str:
        return self.case_no

    @property
    def flow(self) -> str:
        from tongban.cases.lifecycle import flow_of

        return flow_of(self.mode, self.submitted_department_id, self.owner_department_id)


class CaseAction(models.Model):
    """One step in a case's history. Append-only: rows are never updated or deleted."""

    case = models.ForeignKey(Case, verbose_name="办件", on_delete=models.CASCADE, related_name="actions")
    seq = models.PositiveIntegerField("序号")
    action_id = models.UUIDField("动作标识")
    name = models.CharField("动作", max_length=32)
    at = models.DateTimeField("时间")
    actor = models.CharField("操作人账号", max_length=150)
    actor_name = models.CharField("操作人", max_length=128, blank=True)
    role = models.CharField("角色", max_length=16)
    node = models.CharField("节点", max_length=6)
    department_id_ref = models.BigIntegerField("部门", null=True, blank=True)
    reason = models.TextField("理由", blank=True)
    data = models.JSONField("内容", default=dict, blank=True)

    class Meta:
        verbose_name = "办件动作"
        verbose_name_plural = "办件动作"
        ordering = ["case_id", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["case", "seq"], name="uniq_case_action_seq"),
            models.UniqueConstraint(fields=["case", "action_id"], name="uniq_case_action_id"),
        ]


class CaseParty(models.Model):
    """A party of a joint application (共同申请人, e.g. both parties of a marriage): each may follow the case."""

    case = models.ForeignKey(Case, verbose_name="办件", on_delete=models.CASCADE, related_name="parties")
    label = models.CharField("当事人", max_length=16)
    name = models.CharField("姓名", max_length=128)
    id_number = models.CharField("公民身份号码", max_length=18, db_index=True)

    class Meta:
        verbose_name = "共同申请当事人"
        verbose_name_plural = "共同申请当事人"
        ordering = ["case_id", "id"]


class CaseMaterial(models.Model):
    case = models.ForeignKey(Case, verbose_name="办件", on_delete=models.CASCADE, related_name="materials")
    material_code = models.CharField("材料编码", max_length=32)
    sha256 = models.CharField("SHA-256", max_length=64)
    size = models.PositiveIntegerField("大小（字节）")
    content_type = models.CharField("类型", max_length=64)
    filename = models.CharField("文件名", max_length=255)
    uploaded_at = models.DateTimeField("上传时间")
    uploaded_by = models.CharField("上传人", max_length=150)
    supplement = models.BooleanField("补正材料", default=False)

    class Meta:
        verbose_name = "办件材料"
        verbose_name_plural = "办件材料"
        ordering = ["case_id", "id"]


class CaseNumberCounter(models.Model):
    """Daily sequence per submitting node; the node code prefix makes case numbers unique nationally."""

    node = models.CharField(max_length=6)
    day = models.DateField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["node", "day"], name="uniq_case_counter")]


class HubCaseSummary(models.Model):
    """What the national hub knows of a case kept at a provincial node: where it stands and on which
    clock, never who applied or what they filed. The node that acts on the case reports it
    (`case.summary`); the newest report by action count, then by time, wins."""

    node = models.CharField("所在节点（枢纽）", max_length=6)
    case_no = models.CharField("办件编号", max_length=32)
    reported_by = models.CharField("报告节点", max_length=6)
    as_of = models.DateTimeField("截至")
    action_count = models.PositiveIntegerField("动作数")
    last_action = models.CharField("最近动作", max_length=32)
    item_code = models.CharField("事项编码", max_length=64)
    item_name = models.CharField("事项名称", max_length=200)
    item_version = models.PositiveIntegerField("事项版本")
    mode = models.CharField("办理模式", max_length=16)
    flow = models.CharField("流转方式", max_length=16)
    status = models.CharField("办件状态", max_length=20, choices=CaseStatus.choices)
    outcome = models.CharField("办理结果", max_length=8, blank=True)
    applicant_type = models.CharField("申请人类型", max_length=12)
    submitted_node = models.CharField("收件节点", max_length=6)
    owner_node = models.CharField("事项所属节点", max_length=6)
    processing_node = models.CharField("当前办理节点", max_length=6)
    delivery_node = models.CharField("送达节点", max_length=6)
    # Departments as the protocol names them (division code, function): the hub resolves names when it
    # shows them and never creates a department to keep a report.
    submitted_region = models.CharField("收件部门区划", max_length=6, blank=True)
    submitted_function = models.CharField("收件部门职能", max_length=16, blank=True)
    owner_region = models.CharField("属地部门区划", max_length=6, blank=True)
    owner_function = models.CharField("属地部门职能", max_length=16, blank=True)
    processing_region = models.CharField("当前办理部门区划", max_length=6, blank=True)
    processing_function = models.CharField("当前办理部门职能", max_length=16, blank=True)
    received_at = models.DateTimeField("收件时间", null=True)
    accepted_at = models.DateTimeField("受理时间", null=True)
    decided_at = models.DateTimeField("办结时间", null=True)
    promised_due = models.DateField("承诺办结日期", null=True)
    legal_due = models.DateField("法定办结日期", null=True)
    due_provisional = models.BooleanField("期限为预估", default=False)
    paused_working_days = models.PositiveIntegerField("暂停工作日", default=0)
    warning = models.CharField("预警", max_length=8, blank=True, choices=Warning.choices)
    unassigned = models.BooleanField("无人办理", default=False)

    class Meta:
        verbose_name = "全国办件概况"
        verbose_name_plural = "全国办件概况"
        constraints = [models.UniqueConstraint(fields=["node", "case_no"], name="uniq_hub_case_summary")]
        indexes = [
            models.Index(fields=["node", "status"]),
            models.Index(fields=["node", "warning"]),
            models.Index(fields=["node", "owner_node"]),
        ]

    def __str__(self) -> str:
        return self.case_no

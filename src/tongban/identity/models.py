"""Accounts (one identity everywhere), enterprises and their agents, staff bindings."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q


class RealNameLevel(models.IntegerChoices):
    NONE = 0, "未实名"
    BASIC = 1, "L1 基本实名"
    VERIFIED = 2, "L2 实人核验"
    STRONG = 3, "L3 多要素核验"
    IN_PERSON = 4, "L4 窗口现场核验"


class Account(AbstractUser):
    """One account works at every node (单点登录、全国漫游)."""

    display_name = models.CharField("姓名", max_length=64, blank=True)
    id_number = models.CharField("公民身份号码", max_length=18, blank=True, db_index=True)
    phone = models.CharField("手机号码", max_length=20, blank=True)
    real_name_level = models.PositiveSmallIntegerField(
        "实名等级", choices=RealNameLevel.choices, default=RealNameLevel.NONE
    )
    # Every access token carries this number; raising it revokes all tokens issued before.
    token_version = models.PositiveIntegerField("令牌版本", default=0, editable=False)
    # Where the account is kept: blank for an account of this deployment (the hub, or a node's own
    # administrator); the hub's code for a replica a node built from the hub's signed facts.
    home_node = models.CharField("账号所属节点", max_length=6, blank=True, default="", editable=False)
    facts_at = models.DateTimeField("账号信息时间", null=True, blank=True, editable=False)
    # HMAC-SM3 of the ID number (as the licence directory keys holders): what a replica that was never
    # given the number compares against.
    id_number_hash = models.CharField("公民身份号码索引", max_length=64, blank=True, default="", db_index=True)

    class Meta:
        verbose_name = "账号"
        verbose_name_plural = "账号"
        # One person, one account: an ID number belongs to at most one account.
        constraints = [
            models.UniqueConstraint(fields=["id_number"], condition=~Q(id_number=""), name="uniq_account_id_number")
        ]

    def __str__(self) -> str:
        return self.display_name or self.username

    @property
    def is_replica(self) -> bool:
        return bool(self.home_node)

    def has_id_number(self, number: str) -> bool:
        """The account's holder is the person with this ID number (compared by its keyed hash where a
        replica was given no number)."""
        if not number:
            return False
        if self.id_number:
            return self.id_number == number
        from tongban.licences.directory import holder_key

        return bool(self.id_number_hash) and self.id_number_hash == holder_key(number)

    def save(self, *args: Any, **kwargs: Any) -> None:
        # `_password` is set only by set_password(); Django's silent rehash on login clears it
        # before saving, so only a real password change revokes outstanding tokens.
        if self.pk is not None and self._password is not None:
            self.token_version += 1
            update_fields = kwargs.get("update_fields")
            if update_fields is not None:
                kwargs["update_fields"] = {*update_fields, "token_version"}
        super().save(*args, **kwargs)


class Enterprise(models.Model):
    """A legal person; staff approve it before any agent may apply for it."""

    class Status(models.TextChoices):
        PENDING = "pending", "待审核"
        APPROVED = "approved", "已通过"
        REJECTED = "rejected", "未通过"

    credit_code = models.CharField("统一社会信用代码", max_length=18, unique=True)
    name = models.CharField("名称", max_length=128)
    applicant_type = models.CharField("申请人类型", max_length=2, default="2")
    domicile = models.ForeignKey(
        "regions.Region", verbose_name="住所地", null=True, blank=True, on_delete=models.PROTECT
    )
    legal_representative = models.CharField("法定代表人", max_length=64, blank=True)
    # With it the legal representative's own (verified) account may manage the agents.
    legal_representative_id_number = models.CharField("法定代表人公民身份号码", max_length=18, blank=True)
    status = models.CharField("审核状态", max_length=16, choices=Status.choices, default=Status.PENDING)
    registered_by = models.ForeignKey(
        Account, verbose_name="注册人", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    registered_at = models.DateTimeField("注册时间", null=True, blank=True)
    reviewed_by = models.ForeignKey(
        Account, verbose_name="审核人", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reviewed_at = models.DateTimeField("审核时间", null=True, blank=True)
    review_note = models.CharField("审核意见", max_length=255, blank=True)

    class Meta:
        verbose_name = "企业（法人）"
        verbose_name_plural = "企业（法人）"

    def __str__(self) -> str:
        return self.name


class EnterpriseAgent(models.Model):
    """A person who acts for an enterprise (经办人)."""

    enterprise = models.ForeignKey(Enterprise, verbose_name="企业", on_delete=models.CASCADE, related_name="agents")
    account = models.ForeignKey(Account, verbose_name="经办人", on_delete=models.CASCADE, related_name="agencies")
    active = models.BooleanField("有效", default=True)

    class Meta:
        verbose_name = "企业经办人"
        verbose_name_plural = "企业经办人"
        constraints = [models.UniqueConstraint(fields=["enterprise", "account"], name="uniq_enterprise_agent")]

    def __str__(self) -> str:
        return f"{self.account} · {self.enterprise}"


class VerificationMethod(models.TextChoices):
    """How a person's identity was checked; each method raises the account to its level (METHOD_LEVELS)."""

    WINDOW = "window", "窗口现场核验"


# Licence-based verification (电子证照) will add a method here, at L3, with its own check.
METHOD_LEVELS = {VerificationMethod.WINDOW: RealNameLevel.IN_PERSON}


class RealNameVerification(models.Model):
    """One verification of an account holder's identity, kept as the record behind the level."""

    account = models.ForeignKey(
        Account, verbose_name="账号", on_delete=models.CASCADE, related_name="real_name_verifications"
    )
    method = models.CharField("核验方式", max_length=16, choices=VerificationMethod.choices)
    level_before = models.PositiveSmallIntegerField("核验前实名等级", choices=RealNameLevel.choices)
    level = models.PositiveSmallIntegerField("核验后实名等级", choices=RealNameLevel.choices)
    verified_by = models.ForeignKey(Account, verbose_name="核验人", on_delete=models.PROTECT, related_name="+")
    node = models.ForeignKey("regions.Node", verbose_name="节点", on_delete=models.PROTECT)
    department = models.ForeignKey(
        "regions.Department", verbose_name="部门", null=True, blank=True, on_delete=models.PROTECT
    )
    verified_at = models.DateTimeField("核验时间")

    class Meta:
        verbose_name = "实名核验记录"
        verbose_name_plural = "实名核验记录"
        ordering = ["-verified_at", "-id"]

    def __str__(self) -> str:
        return f"{self.account} · {self.get_method_display()}"


class StaffRole(models.TextChoices):
    WINDOW_CLERK = "window_clerk", "窗口收件员"
    REVIEWER = "reviewer", "审查员"
    APPROVER = "approver", "审批人"
    SUPERVISOR = "supervisor", "督办员"
    ADMINISTRATOR = "administrator", "管理员"


class StaffBinding(models.Model):
    """A staff member's post: node, region, department and role."""

    account = models.ForeignKey(Account, verbose_name="账号", on_delete=models.CASCADE, related_name="staff_bindings")
    node = models.ForeignKey("regions.Node", verbose_name="节点", on_delete=models.PROTECT)
    # The national hub belongs to no division: its posts (全国督办) carry no region.
    region = models.ForeignKey("regions.Region", verbose_name="区划", null=True, blank=True, on_delete=models.PROTECT)
    department = models.ForeignKey(
        "regions.Department", verbose_name="部门", null=True, blank=True, on_delete=models.PROTECT
    )
    role = models.CharField("角色", max_length=16, choices=StaffRole.choices)
    is_cross_province_window = models.BooleanField("跨省通办窗口", default=False)
    active = models.BooleanField("有效", default=True)

    class Meta:
        verbose_name = "工作人员岗位"
        verbose_name_plural = "工作人员岗位"
        constraints = [
            models.UniqueConstraint(fields=["account", "node", "department", "role"], name="uniq_staff_binding")
        ]

    def clean(self) -> None:
        if self.region_id is None and not (self.node_id and self.node.is_hub and self.department_id is None):
            raise ValidationError({"region": "省级节点的岗位和部门岗位须写明区划。"})

    def __str__(self) -> str:
        return f"{self.account} · {self.get_role_display()} · {self.department or self.region or self.node}"


class AccountReplica(models.Model):
    """At the hub: a node that holds a replica of an account, and so is sent each change of its facts."""

    account = models.ForeignKey(Account, verbose_name="账号", on_delete=models.CASCADE, related_name="replicas")
    node = models.CharField("节点", max_length=6)
    first_pulled_at = models.DateTimeField("首次获取时间")
    last_pulled_at = models.DateTimeField("最近获取时间")

    class Meta:
        verbose_name = "账号副本"
        verbose_name_plural = "账号副本"
        constraints = [models.UniqueConstraint(fields=["account", "node"], name="uniq_account_replica")]

    def __str__(self) -> str:
        return f"{self.account} @ {self.node}"

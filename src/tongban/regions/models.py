"""GB/T 2260 divisions and the edition they come from, platform nodes, departments and dated alliances."""

from __future__ import annotations

import datetime as dt

from django.db import models


class Region(models.Model):
    """An administrative division (GB/T 2260): province, prefecture or county.

    A division the current edition no longer lists (渝北区, merged into 两江新区 in 2025) stays with
    `current` false: cases, accounts and scenarios dated before the change still name it.
    """

    class Level(models.IntegerChoices):
        PROVINCE = 1, "省级"
        PREFECTURE = 2, "地级"
        COUNTY = 3, "县级"

    code = models.CharField("区划代码", max_length=6, primary_key=True)
    name = models.CharField("名称", max_length=64)
    level = models.PositiveSmallIntegerField("级别", choices=Level.choices)
    parent = models.ForeignKey(
        "self", verbose_name="上级区划", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    current = models.BooleanField("现行", default=True, help_text="现行版本列有该区划；否则为已不再列入的旧区划")

    class Meta:
        verbose_name = "行政区划"
        verbose_name_plural = "行政区划"
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name}（{self.code}）"

    @property
    def province_code(self) -> str:
        return self.code[:2] + "0000"


class DivisionEdition(models.Model):
    """Which published edition the loaded division table is (one row, written by the loader)."""

    SINGLETON = 1

    id = models.PositiveSmallIntegerField(primary_key=True, default=SINGLETON, editable=False)
    name = models.CharField("版本", max_length=128)
    date = models.DateField("数据日期")
    source = models.CharField("来源", max_length=255)

    class Meta:
        verbose_name = "区划版本"
        verbose_name_plural = "区划版本"

    def __str__(self) -> str:
        return self.name


class Node(models.Model):
    """A platform deployment: the national hub or one provincial platform."""

    code = models.CharField("节点编码", max_length=6, primary_key=True)
    name = models.CharField("名称", max_length=64)
    region = models.OneToOneField(
        Region, verbose_name="所属区划", null=True, blank=True, on_delete=models.PROTECT, related_name="node"
    )
    is_hub = models.BooleanField("国家平台", default=False)
    active = models.BooleanField("启用", default=True)

    class Meta:
        verbose_name = "平台节点"
        verbose_name_plural = "平台节点"
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name}（{self.code}）"


class DepartmentFunction(models.TextChoices):
    """Departments are found by function in a region; item content names the function, never a body."""

    PUBLIC_SECURITY = "gongan", "公安"
    CIVIL_AFFAIRS = "minzheng", "民政"
    HUMAN_RESOURCES = "renshe", "人力资源社会保障"
    MEDICAL_INSURANCE = "yibao", "医疗保障"
    HOUSING_FUND = "gongjijin", "住房公积金"
    MARKET_REGULATION = "shichang", "市场监督管理"
    TAXATION = "shuiwu", "税务"
    NATURAL_RESOURCES = "ziran", "自然资源"
    JUSTICE = "sifa", "司法行政"
    ECOLOGY = "shengtai", "生态环境"
    HEALTH = "weijian", "卫生健康"
    EDUCATION = "jiaoyu", "教育"
    TRANSPORT = "jiaotong", "交通运输"
    HOUSING = "zhujian", "住房城乡建设"
    INDUSTRY = "gongxin", "工业和信息化"
    COMMERCE = "shangwu", "商务"
    WATER = "shuili", "水利"
    ADMIN_APPROVAL = "shenpi", "行政审批服务"
    GOV_SERVICE = "zhengwu", "政务服务管理"


class Department(models.Model):
    """A government department: a function in a region, served by a node."""

    region = models.ForeignKey(Region, verbose_name="区划", on_delete=models.PROTECT, related_name="departments")
    node = models.ForeignKey(Node, verbose_name="所属节点", on_delete=models.PROTECT, related_name="departments")
    function = models.CharField("职能", max_length=16, choices=DepartmentFunction.choices)
    name = models.CharField("名称", max_length=128)
    credit_code = models.CharField("统一社会信用代码", max_length=18, blank=True)

    class Meta:
        verbose_name = "部门"
        verbose_name_plural = "部门"
        ordering = ["region_id", "function"]
        constraints = [models.UniqueConstraint(fields=["region", "function"], name="uniq_department_function")]

    def __str__(self) -> str:
        return self.name


class Alliance(models.Model):
    """Regions that accept each other's items from a start date (e.g. 东北三省一市)."""

    code = models.SlugField("编码", max_length=32, primary_key=True)
    name = models.CharField("名称", max_length=64)
    members = models.ManyToManyField(Region, verbose_name="成员区划", related_name="alliances")
    department_functions = models.JSONField("适用职能", default=list, blank=True)
    valid_from = models.DateField("生效日期")
    valid_until = models.DateField("失效日期", null=True, blank=True)
    workflow = models.CharField("办理方式", max_length=128, blank=True)
    source = models.CharField("来源", max_length=255, blank=True)

    class Meta:
        verbose_name = "区域联盟"
        verbose_name_plural = "区域联盟"

    def __str__(self) -> str:
        return self.name

    def in_force(self, on: dt.date) -> bool:
        return self.valid_from <= on and (self.valid_until is None or on < self.valid_until)

"""Service items (事项): one national definition per code, dated versions, materials, coverage."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import models


class Theme(models.TextChoices):
    EDUCATION = "教育", "教育"
    EMPLOYMENT = "就业", "就业"
    SOCIAL_SECURITY = "社保", "社保"
    MEDICAL = "医疗", "医疗"
    ELDERLY = "养老", "养老"
    HOUSING = "居住", "居住"
    MARRIAGE_BIRTH = "婚育", "婚育"
    TRAVEL = "出行", "出行"
    ESTABLISHMENT = "设立变更", "设立变更"
    PERMITS = "准营准办", "准营准办"
    TRADE = "商务贸易", "商务贸易"
    FINANCE = "金融证券", "金融证券"
    ENERGY_WATER = "能源水利", "能源水利"
    TRANSPORT = "交通运输", "交通运输"
    TAX = "纳税缴费", "纳税缴费"


class ApplicantType(models.TextChoices):
    """`subMatter` codes as used in national feeds."""

    PERSON = "1", "自然人"
    ENTERPRISE = "2", "企业法人"
    PUBLIC_INSTITUTION = "3", "事业法人"
    SOCIAL_ORG = "4", "社会组织法人"
    NON_LEGAL_ENTERPRISE = "5", "非法人企业"
    GOVERNMENT = "6", "行政机关"
    OTHER = "9", "其他组织"


class ItemType(models.TextChoices):
    LICENSING = "01", "行政许可"
    CONFIRMATION = "07", "行政确认"
    PAYMENT = "05", "行政给付"
    OTHER_POWER = "10", "其他行政权力"
    PUBLIC_SERVICE = "20", "公共服务"


class Mode(models.TextChoices):
    ONLINE = "online", "全程网办"
    PROXY = "proxy", "异地代收代办"
    MULTI_PLACE = "multi_place", "多地联办"


class JurisdictionRule(models.TextChoices):
    HUKOU = "hukou", "户籍地"
    INSURED = "insured", "参保地"
    FUND = "fund", "缴存地"
    DOMICILE = "domicile", "住所地"
    PROPERTY = "property", "不动产所在地"
    RESIDENCE_PERMIT = "residence_permit", "居住证发放地"
    DESTINATION = "destination", "迁入地（转入地）"
    APPLICANT_CHOICE = "choice", "申请人选择"


class LimitUnit(models.TextChoices):
    WORKING_DAY = "1", "工作日"
    MONTH = "2", "月"
    YEAR = "3", "年"
    CALENDAR_DAY = "4", "自然日"


class Item(models.Model):
    """The national definition of a service item: its 基本编码 and what never varies."""

    code = models.CharField("事项编码", max_length=40, primary_key=True)
    name = models.CharField("事项名称", max_length=128)
    theme = models.CharField("主题", max_length=16, choices=Theme.choices)
    applicant_type = models.CharField("申请人类型", max_length=2, choices=ApplicantType.choices)
    department_function = models.CharField("主管部门职能", max_length=16)
    item_type = models.CharField("事项类型", max_length=2, choices=ItemType.choices)
    # Derived from the name at load time so that "jhdj" finds 结婚登记.
    name_initials = models.CharField("拼音首字母", max_length=128, blank=True, db_index=True)
    name_pinyin = models.CharField("全拼", max_length=512, blank=True)
    content_file = models.CharField("内容文件", max_length=255, blank=True)

    class Meta:
        verbose_name = "事项"
        verbose_name_plural = "事项"
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name}（{self.code}）"


class ItemVersion(models.Model):
    """One dated definition of an item; a case freezes the version in force when it was submitted."""

    item = models.ForeignKey(Item, verbose_name="事项", on_delete=models.PROTECT, related_name="versions")
    version = models.PositiveIntegerField("版本号")
    valid_from = models.DateField("生效日期")
    valid_until = models.DateField("失效日期", null=True, blank=True, help_text="不含当日；为空表示长期有效")
    is_immediate = models.BooleanField("即办件", default=False)
    modes = models.JSONField("办理模式", default=list)
    jurisdiction_rule = models.CharField("管辖规则", max_length=24, choices=JurisdictionRule.choices)
    legal_limit = models.PositiveIntegerField("法定时限")
    legal_limit_unit = models.CharField("法定时限单位", max_length=1, choices=LimitUnit.choices, default="1")
    promised_limit = models.PositiveIntegerField("承诺时限")
    promised_limit_unit = models.CharField("承诺时限单位", max_length=1, choices=LimitUnit.choices, default="1")
    form_fields = models.JSONField("表单字段", default=list, blank=True)
    fees = models.CharField("收费", max_length=255, default="不收费")
    establishes_enterprise = models.BooleanField(
        "设立企业", default=False, help_text="设立登记：由个人申请，核准时赋予统一社会信用代码并建立企业"
    )
    establishment_kind = models.CharField(
        "设立的主体",
        max_length=24,
        default="enterprise",
        choices=[("enterprise", "企业"), ("individual_business", "个体工商户"), ("branch", "分支机构")],
        help_text="企业、个体工商户由个人申请；分支机构由隶属企业申请",
    )
    result_type = models.CharField("办理结果", max_length=128)
    # A licence type code, or {"field": form field, "types": {answer: licence type code}}; null: no licence.
    result_licence = models.JSONField("颁发的电子证照类型", null=True, blank=True)
    result_operation = models.CharField("证照签发操作", max_length=12, default="issue")
    result_delivery = models.JSONField("送达方式", default=list)
    legal_basis = models.TextField("设定依据", blank=True)
    conditions = models.TextField("受理条件", blank=True)
    source = models.CharField("来源", max_length=255)
    unverified = models.JSONField("未经核实的要素", default=list, blank=True)
    notes = models.TextField("说明", blank=True)

    def licence_type_code(self, form: dict[str, Any]) -> str | None:
        """The licence an approval of this version issues for `form`, or None."""
        chosen = self.result_licence
        if isinstance(chosen, dict):
            return chosen["types"].get(str(form.get(chosen["field"], "")))
        return chosen or None

    class Meta:
        verbose_name = "事项版本"
        verbose_name_plural = "事项版本"
        ordering = ["item_id", "version"]
        constraints = [models.UniqueConstraint(fields=["item", "version"], name="uniq_item_version")]

    def __str__(self) -> str:
        return f"{self.item.name}（第 {self.version} 版）"

    def in_force(self, on: dt.date) -> bool:
        return self.valid_from <= on and (self.valid_until is None or on < self.valid_until)


class Material(models.Model):
    class Requirement(models.TextChoices):
        REQUIRED = "required", "必要"
        CONDITIONAL = "conditional", "容缺/情形必要"

    class Form(models.TextChoices):
        ORIGINAL = "original", "原件"
        COPY = "copy", "复印件"
        ELECTRONIC = "electronic", "电子材料"

    item_version = models.ForeignKey(
        ItemVersion, verbose_name="事项版本", on_delete=models.CASCADE, related_name="materials"
    )
    code = models.CharField("材料编码", max_length=32)
    name = models.CharField("材料名称", max_length=128)
    requirement = models.CharField("必要性", max_length=16, choices=Requirement.choices)
    condition = models.CharField("适用情形", max_length=255, blank=True)
    form = models.CharField("材料形式", max_length=16, choices=Form.choices)
    licence_type = models.CharField("可替代的电子证照类型", max_length=64, blank=True)
    # For a conditional material: {form field: value or [values]}; every entry must match the form.
    when = models.JSONField("适用条件（表单取值）", default=dict, blank=True)
    order = models.PositiveSmallIntegerField("顺序", default=0)

    class Meta:
        verbose_name = "申请材料"
        verbose_name_plural = "申请材料"
        ordering = ["item_version_id", "order"]
        constraints = [models.UniqueConstraint(fields=["item_version", "code"], name="uniq_material_code")]

    def __str__(self) -> str:
        return self.name


class Leg(models.Model):
    """One leg of a 多地联办 item: who acts, where, and within how many working days."""

    class Place(models.TextChoices):
        DESTINATION = "destination", "转入地"
        ORIGIN = "origin", "转出地"
        OWNER = "owner", "属地"

    item_version = models.ForeignKey(
        ItemVersion, verbose_name="事项版本", on_delete=models.CASCADE, related_name="legs"
    )
    order = models.PositiveSmallIntegerField("顺序")
    name = models.CharField("环节", max_length=64)
    place = models.CharField("办理地", max_length=16, choices=Place.choices)
    department_function = models.CharField("办理部门职能", max_length=16)
    limit = models.PositiveIntegerField("时限（工作日）")

    class Meta:
        verbose_name = "联办环节"
        verbose_name_plural = "联办环节"
        ordering = ["item_version_id", "order"]
        constraints = [models.UniqueConstraint(fields=["item_version", "order"], name="uniq_leg_order")]

    def __str__(self) -> str:
        return f"第 {self.order} 环节：{self.name}"


class Coverage(models.Model):
    """Which node offers an item across provinces, in which modes, over which dates."""

    item = models.ForeignKey(Item, verbose_name="事项", on_delete=models.CASCADE, related_name="coverage")
    node = models.ForeignKey("regions.Node", verbose_name="节点", on_delete=models.CASCADE)
    modes = models.JSONField("办理模式", default=list)
    valid_from = models.DateField("生效日期")
    valid_until = models.DateField("失效日期", null=True, blank=True)
    proxy_handover_days = models.JSONField(
        "代收代办交接时限", default=dict, blank=True, help_text="推送、寄递、复核、寄出结果的工作日数"
    )
    note = models.CharField("说明", max_length=255, blank=True)
    source = models.CharField("来源", max_length=255, blank=True)
    unverified = models.JSONField("未经核实的要素", default=list, blank=True)

    class Meta:
        verbose_name = "通办范围"
        verbose_name_plural = "通办范围"
        ordering = ["item_id", "node_id", "valid_from"]

    def __str__(self) -> str:
        return f"{self.item_id} 在节点 {self.node_id} 的通办范围（{self.valid_from.isoformat()} 起）"

    def in_force(self, on: dt.date) -> bool:
        return self.valid_from <= on and (self.valid_until is None or on < self.valid_until)

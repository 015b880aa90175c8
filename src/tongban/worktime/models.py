"""The platform's own holiday table: seeded from chinese-calendar, years added by administrators."""

from django.core.exceptions import ValidationError
from django.db import models

from tongban.worktime.schedule import WEEKDAY_NAMES, is_weekend


class CalendarYear(models.Model):
    """A year whose official holiday schedule is loaded. Without it, dates in that year are provisional."""

    year = models.PositiveSmallIntegerField("年份", primary_key=True)
    source = models.CharField("来源", max_length=255)
    loaded_at = models.DateTimeField("载入时间")

    class Meta:
        verbose_name = "节假日年度"
        verbose_name_plural = "节假日年度"
        ordering = ["year"]

    def __str__(self) -> str:
        return f"{self.year} 年"


class SpecialDay(models.Model):
    """A day that differs from the Monday–Friday pattern: a weekday holiday or a weekend make-up workday."""

    date = models.DateField("日期", primary_key=True)
    is_working_day = models.BooleanField("是否工作日")
    name = models.CharField("名称", max_length=32, blank=True)

    class Meta:
        verbose_name = "特殊日期"
        verbose_name_plural = "特殊日期（节假日与调休）"
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date} {'调休上班' if self.is_working_day else self.name or '休息'}"

    def clean(self) -> None:
        """Only exceptions are stored, and only for a registered year (so its dates count as official)."""
        if self.date is None:
            return
        weekday = WEEKDAY_NAMES[self.date.weekday()]
        if self.is_working_day and not is_weekend(self.date):
            raise ValidationError({"is_working_day": f"{self.date} 是{weekday}，本来就是工作日，无需登记。"})
        if not self.is_working_day and is_weekend(self.date):
            raise ValidationError({"is_working_day": f"{self.date} 是{weekday}，本来就休息，无需登记。"})
        if not self.is_working_day and not self.name.strip():
            raise ValidationError({"name": "请填写节假日名称。"})
        years = {self.date.year, self.date.year + 1} if self.date.month == 12 else {self.date.year}
        if not CalendarYear.objects.filter(year__in=years).exists():
            raise ValidationError({"date": f"请先登记 {self.date.year} 年度（节假日年度），再逐日修改。"})

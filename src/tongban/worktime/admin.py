"""Administrators add a year when the State Council publishes it, or correct single days."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from tongban.worktime.loader import apply_schedules, file_schedules, load_years
from tongban.worktime.models import CalendarYear, SpecialDay
from tongban.worktime.schedule import (
    WEEKDAY_NAMES,
    DayInfo,
    ScheduleError,
    YearSchedule,
    build_schedule,
    format_holiday_lines,
    format_workday_lines,
    package_schedule,
    parse_holiday_lines,
    parse_workday_lines,
)

MANUAL, AUTOMATIC = "manual", "auto"


def _stored_days(year: int) -> dict[dt.date, DayInfo]:
    return {r.date: DayInfo(r.is_working_day, r.name) for r in SpecialDay.objects.filter(date__year=year)}


def _available_schedule(year: int) -> YearSchedule | None:
    """The same precedence as `load_holidays`: the year's file, else the chinese-calendar package."""
    return file_schedules(settings.CONTENT_DIR).get(year) or package_schedule(year)


class CalendarYearForm(forms.ModelForm):
    mode = forms.ChoiceField(
        label="录入方式",
        choices=[
            (MANUAL, "按国务院办公厅通知手工录入（填写下面两栏）"),
            (AUTOMATIC, "自动载入：优先 content/holidays/<年份>.yaml，其次 chinese-calendar 程序包"),
        ],
        initial=MANUAL,
        widget=forms.RadioSelect,
    )
    holidays_text = forms.CharField(
        label="放假安排",
        required=False,
        widget=forms.Textarea(attrs={"rows": 8, "cols": 60}),
        help_text="每行一项：名称 开始日期 结束日期，例如“春节 2025-01-28 2025-02-04”；单日可只写一个日期。"
        "区间内的周末自动按休息处理。",
    )
    workdays_text = forms.CharField(
        label="调休上班日",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "cols": 60}),
        help_text="每行一个周末上班的日期，可在后面注明所属节日，例如“2025-01-26 春节”。",
    )

    class Meta:
        model = CalendarYear
        fields = ["year", "source"]
        help_texts = {
            "source": "通知名称和文号，例如“国务院办公厅关于2025年部分节假日安排的通知（国办发明电〔2024〕12号）”。"
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.schedule: YearSchedule | None = None
        if "source" in self.fields:
            self.fields["source"].required = False  # filled from the file or package in automatic mode
        if self.instance.pk:
            days = _stored_days(self.instance.year)
            self.initial.setdefault("holidays_text", format_holiday_lines(days))
            self.initial.setdefault("workdays_text", format_workday_lines(days))

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        year = data.get("year") or self.instance.year
        if not year or self.errors:
            return data
        try:
            self.schedule = self._schedule(year, data)
        except ScheduleError as error:
            raise forms.ValidationError(str(error)) from None
        data["source"] = self.schedule.source
        return data

    def _schedule(self, year: int, data: dict[str, Any]) -> YearSchedule:
        if data.get("mode") == AUTOMATIC:
            schedule = _available_schedule(year)
            if schedule is None:
                raise ScheduleError(
                    f"没有找到 {year} 年的安排：content/holidays/ 下没有 {year}.yaml，"
                    "程序包也未收录。请按通知手工录入。"
                )
            return schedule
        return build_schedule(
            year,
            data.get("source") or "",
            parse_holiday_lines(data.get("holidays_text") or ""),
            parse_workday_lines(data.get("workdays_text") or ""),
        )


@admin.register(CalendarYear)
class CalendarYearAdmin(admin.ModelAdmin):
    form = CalendarYearForm
    list_display = ["year", "source", "loaded_at", "holiday_count", "makeup_count"]
    search_fields = ["source"]
    actions = ["reload_years"]
    fieldsets = [
        (None, {"fields": ["year", "mode", "source", "loaded_at"]}),
        ("安排内容", {"fields": ["holidays_text", "workdays_text"]}),
    ]

    def get_readonly_fields(self, request: HttpRequest, obj: CalendarYear | None = None) -> list[str]:
        # The year is the key: to change it, delete the year and add the right one.
        return ["year", "loaded_at"] if obj else ["loaded_at"]

    @admin.display(description="工作日放假天数")
    def holiday_count(self, obj: CalendarYear) -> int:
        return SpecialDay.objects.filter(date__year=obj.year, is_working_day=False).count()

    @admin.display(description="调休上班天数")
    def makeup_count(self, obj: CalendarYear) -> int:
        return SpecialDay.objects.filter(date__year=obj.year, is_working_day=True).count()

    def save_model(self, request: HttpRequest, obj: CalendarYear, form: CalendarYearForm, change: bool) -> None:
        assert form.schedule is not None  # set by a valid form
        if not apply_schedules([form.schedule]):
            self.message_user(request, f"{obj.year} 年的安排与已登记的一致，未作修改。", messages.INFO)
        obj.refresh_from_db()

    @admin.action(description="重新载入所选年度（文件优先，其次 chinese-calendar 程序包）")
    def reload_years(self, request: HttpRequest, queryset: QuerySet[CalendarYear]) -> None:
        years = list(queryset.values_list("year", flat=True))
        try:
            report = load_years(years, settings.CONTENT_DIR)
        except ScheduleError as error:
            self.message_user(request, f"载入失败，未作任何修改：{error}", messages.ERROR)
            return
        changed = "、".join(map(str, report["changed"])) or "无"
        self.message_user(request, f"已载入 {len(years) - len(report['missing'])} 个年度，其中有变化的：{changed}。")
        if report["missing"]:
            missing = "、".join(map(str, report["missing"]))
            self.message_user(request, f"{missing} 年既无文件也未被程序包收录，保留原有登记。", messages.WARNING)


class YearFilter(admin.SimpleListFilter):
    title = "年度"
    parameter_name = "year"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        years = CalendarYear.objects.order_by("-year").values_list("year", flat=True)
        return [(str(year), f"{year} 年") for year in years]

    def queryset(self, request: HttpRequest, queryset: QuerySet[SpecialDay]) -> QuerySet[SpecialDay]:
        value = self.value()
        return queryset.filter(date__year=int(value)) if value and value.isdigit() else queryset


@admin.register(SpecialDay)
class SpecialDayAdmin(admin.ModelAdmin):
    list_display = ["date", "weekday", "kind", "name"]
    list_filter = [YearFilter, "is_working_day", "name"]
    date_hierarchy = "date"
    search_fields = ["name"]
    ordering = ["date"]

    def get_readonly_fields(self, request: HttpRequest, obj: SpecialDay | None = None) -> list[str]:
        return ["date"] if obj else []

    @admin.display(description="星期")
    def weekday(self, obj: SpecialDay) -> str:
        return WEEKDAY_NAMES[obj.date.weekday()]

    @admin.display(description="类型")
    def kind(self, obj: SpecialDay) -> str:
        return "调休上班" if obj.is_working_day else "放假"

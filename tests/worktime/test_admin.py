"""Administrators add and correct years in Chinese in the admin."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse

from tongban.worktime import calendar
from tongban.worktime.models import CalendarYear, SpecialDay

D = dt.date


@pytest.fixture
def empty_content(settings, tmp_path: Path) -> Path:
    settings.CONTENT_DIR = tmp_path
    return tmp_path


def test_pages_render(admin_client, seeded: list[int]) -> None:
    for name in ["calendaryear_changelist", "calendaryear_add", "specialday_changelist", "specialday_add"]:
        response = admin_client.get(reverse(f"admin:worktime_{name}"))
        assert response.status_code == 200, name
    response = admin_client.get(reverse("admin:worktime_specialday_changelist"), {"year": "2025"})
    assert "春节" in response.content.decode()


def test_change_form_shows_the_schedule_as_text(admin_client, seeded: list[int]) -> None:
    page = admin_client.get(reverse("admin:worktime_calendaryear_change", args=[2025])).content.decode()
    assert "春节 2025-01-28 2025-02-04" in page
    assert "2025-09-28 国庆节" in page


def test_add_a_year_by_hand(admin_client, seeded: list[int], django_capture_on_commit_callbacks, announcements) -> None:
    assert calendar.deadline(D(2026, 12, 28), 5, "1").provisional
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            reverse("admin:worktime_calendaryear_add"),
            {
                "year": "2027",
                "mode": "manual",
                "source": "测试用虚构安排",
                "holidays_text": "元旦 2027-01-01 至 2027-01-03\n",
                "workdays_text": "2027-01-09 元旦\n",
            },
        )
    assert response.status_code == 302, response.content.decode()
    assert CalendarYear.objects.get(year=2027).source == "测试用虚构安排"
    assert list(SpecialDay.objects.filter(date__year=2027).values_list("date", "is_working_day")) == [
        (D(2027, 1, 1), False),
        (D(2027, 1, 9), True),
    ]
    assert calendar.deadline(D(2026, 12, 28), 5, "1") == calendar.Due(D(2027, 1, 5))
    assert announcements == [[2027]]


def test_form_errors_are_in_chinese(admin_client, seeded: list[int]) -> None:
    response = admin_client.post(
        reverse("admin:worktime_calendaryear_add"),
        {"year": "2027", "mode": "manual", "source": "测试", "holidays_text": "元旦", "workdays_text": ""},
    )
    assert response.status_code == 200
    assert "放假安排第 1 行" in response.content.decode()
    assert not CalendarYear.objects.filter(year=2027).exists()


def test_automatic_mode_reads_the_file_then_the_package(
    admin_client,
    table: None,
    empty_content: Path,
    write_year: Callable[[dict[str, Any]], Path],
    fictional_2027: dict[str, Any],
) -> None:
    url = reverse("admin:worktime_calendaryear_add")
    response = admin_client.post(url, {"year": "2027", "mode": "auto"})
    assert "没有找到 2027 年的安排" in response.content.decode()

    assert admin_client.post(url, {"year": "2026", "mode": "auto"}).status_code == 302
    assert "chinese-calendar" in CalendarYear.objects.get(year=2026).source

    write_year(fictional_2027)
    assert admin_client.post(url, {"year": "2027", "mode": "auto"}).status_code == 302
    assert CalendarYear.objects.get(year=2027).source == fictional_2027["source"]


def test_reload_action_restores_a_year(admin_client, seeded: list[int], empty_content: Path) -> None:
    SpecialDay.objects.filter(date__year=2025).delete()
    response = admin_client.post(
        reverse("admin:worktime_calendaryear_changelist"),
        {"action": "reload_years", "_selected_action": ["2025"]},
        follow=True,
    )
    assert "其中有变化的：2025" in response.content.decode()
    assert SpecialDay.objects.filter(date__year=2025).count() == 23


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"date": "2025-03-03", "is_working_day": "on", "name": ""}, "本来就是工作日"),
        ({"date": "2025-03-01", "name": "测试"}, "本来就休息"),
        ({"date": "2025-03-03", "name": ""}, "请填写节假日名称"),
        ({"date": "2028-03-03", "name": "测试"}, "请先登记 2028 年度"),
    ],
)
def test_single_days_are_checked(admin_client, seeded: list[int], data: dict[str, str], message: str) -> None:
    response = admin_client.post(reverse("admin:worktime_specialday_add"), data)
    assert response.status_code == 200
    assert message in response.content.decode()


def test_correct_a_single_day(admin_client, seeded: list[int]) -> None:
    response = admin_client.post(reverse("admin:worktime_specialday_add"), {"date": "2025-03-03", "name": "临时调整"})
    assert response.status_code == 302
    assert not calendar.is_working_day(D(2025, 3, 3))

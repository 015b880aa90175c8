"""POST /cases is guarded by the same evaluation as the eligibility API: a couple at a 宜昌 window on
the first pilot day is refused (Hubei's pilot is 武汉 only), the same couple at 武汉 is received."""

from __future__ import annotations

import datetime as dt

from .test_review_findings import _staff
from support import Api, ok, problem

COUPLE = {
    "male_name": "王杰",
    "male_id_number": "140107199408120412",
    "party_a_hukou_region": "430102",
    "female_name": "李娜",
    "female_id_number": "370102198805163025",
    "party_b_hukou_region": "520102",
    "permit_holder": "女方",
    "phone": "13800001111",
}


def _marriage(clerk: Api, office: str, nationwide: bool = False):
    form = dict(COUPLE, chosen_region=office, residence_permit_region=office)
    if nationwide:  # from 2025-05-10 the form asks neither hukou places nor a residence permit
        form = {k: v for k, v in form.items() if "hukou" not in k and "permit" not in k}
    return clerk.post(
        "/cases",
        {
            "item_code": "TB-minzheng-001",
            "mode": "proxy",
            "form": form,
            "applicant": {"name": "王杰", "id_number": "140107199408120412", "identity_verified": True},
        },
    )


def test_the_marriage_rule_guards_case_creation(fixed_clock):
    fixed_clock.set(dt.datetime(2021, 6, 1, 9, 0))
    yichang = _staff("yc-minzheng-clerk", "420000", "420500", "minzheng", "window_clerk")
    body = problem(_marriage(yichang, "420500"), 422, "not_eligible")
    assert {reason["code"] for reason in body["reasons"]} >= {"not_pilot_place"}
    wuhan = _staff("wh-minzheng-clerk", "420000", "420102", "minzheng", "window_clerk")
    created = ok(_marriage(wuhan, "420102"), 201)
    assert created["jurisdiction"]["owner"]["department"]["region"] == "420102"
    fixed_clock.set(dt.datetime(2025, 5, 10, 9, 0))  # nationwide from 2025-05-10
    assert ok(_marriage(yichang, "420500", nationwide=True), 201)["item"]["version"] == 3

import pytest

from support import content  # noqa: F401  (package-scoped fixture)


@pytest.fixture(autouse=True)
def _content_and_clock(content, fixed_clock, db):  # noqa: F811
    """Every end-to-end test runs on the real content, at 2025-06-09 09:00 (a Monday)."""
    return fixed_clock


ONLINE_FORM = {
    "applicant_name": "郑垂禄",
    "applicant_id_number": "520324197806230536",
    "phone": "13800001234",
    "insured_region": "520324",
    "treatment_region": "331024",
    "filing_kind": "异地长期居住人员",
    "start_date": "2025-06-09",
}


@pytest.fixture
def online_case():
    """A 全程网办 case: applied at 浙江 (330000), owned by 贵州正安 (520000); returns a small namespace."""
    from types import SimpleNamespace

    from support import Api, dispatch, ok

    def make(submit: bool = True) -> SimpleNamespace:
        applicant = Api("zhengchuilu", node="330000")
        case_no = ok(
            applicant.post("/cases", {"item_code": "TB-yibao-002", "mode": "online", "form": ONLINE_FORM}), 201
        )["case_no"]
        for code in ("id_card", "commitment"):
            ok(applicant.upload(case_no, code), 201)
        if submit:
            ok(applicant.act(case_no, "submit"))
            dispatch()
        return SimpleNamespace(
            case_no=case_no,
            applicant=applicant,
            reviewer=Api("gz-yibao-reviewer", node="520000"),
            approver=Api("gz-yibao-approver", node="520000"),
        )

    return make

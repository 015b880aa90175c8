import pytest

from support import content  # noqa: F401  (package-scoped fixture)


@pytest.fixture(autouse=True)
def _content_and_clock(content, fixed_clock, db):  # noqa: F811
    """Every end-to-end test runs on the real content, at 2025-06-09 09:00 (a Monday)."""
    return fixed_clock


@pytest.fixture
def online_case():
    """A 全程网办 case: applied at 浙江 (330000), owned by 贵州正安 (520000); returns a small namespace."""
    from types import SimpleNamespace

    from tongban.stories import story

    from support import Api, dispatch, ok

    def make(submit: bool = True) -> SimpleNamespace:
        applicant = Api("zhengchuilu", node="330000")
        case_no = ok(applicant.post("/cases", story("online")["request"]), 201)["case_no"]
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

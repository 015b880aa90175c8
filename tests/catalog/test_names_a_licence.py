"""Which results are licences: the load check that makes every licence result name its type."""

from __future__ import annotations

import pytest

from tongban.catalog.spec import names_a_licence


@pytest.mark.parametrize(
    "result_type",
    [
        "营业执照",
        "《食品经营许可证》",
        "结婚证（双方各一本）",
        "无犯罪记录证明",
        "社会保障卡；可在银行网点领取",
        "居民户口簿",
        "基本养老保险参保缴费凭证",
        "中华人民共和国普通护照",
    ],
)
def test_a_certificate_a_permit_a_card_or_a_register_is_a_licence(result_type):
    assert names_a_licence(result_type)


@pytest.mark.parametrize(
    "result_type",
    [
        "办结告知",
        "不动产登记资料查询结果证明（电子）",
        "准予变更登记通知书",
        "参保缴费记录（个人权益记录）",
        "基本医疗保险参保信息（参保凭证）",
        "不予许可决定",
        "受理回执",
    ],
)
def test_a_notice_or_a_lookup_is_not(result_type):
    assert not names_a_licence(result_type)

"""The code lists the identifier validators read: every edition since 1980, and registration authorities."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings

from tongban.identity.validators import validate_credit_code
from tongban.regions.codes import (
    NATIONAL_REGISTRATION_CODE,
    RegionContentError,
    code_lists,
    division_codes,
    read_code_lists,
    rows,
)

FOLDER = Path(settings.CONTENT_DIR) / "regions"


def test_every_current_and_former_division_is_listed():
    lists = code_lists()
    assert division_codes(FOLDER / "divisions.csv") <= lists.listed
    assert {"500105", "500112"} <= lists.listed  # 江北区、渝北区, merged into 两江新区 in 2025


def test_codes_of_old_editions_are_listed():
    lists = code_lists()
    for code in (
        "110103",
        "110104",
        "432221",
        "330104",
        "652101",
    ):  # 崇文、宣武、岳阳县（1981 前）、江干、吐鲁番市（旧）
        assert lists.listed_in_gbt2260(code), code
    for code in ("110199", "130171", "810000", "710000"):
        assert not lists.listed_in_gbt2260(code), code


def test_most_historical_codes_are_confirmed_by_more_than_one_compilation():
    sources = [
        row["sources"].split(";") for _, row in rows(FOLDER / "historical_codes.csv", ["code", "names", "sources"])
    ]
    confirmed = sum(1 for listed in sources if len(set(listed) - {"current"}) >= 2)
    assert len(sources) > 7000
    assert confirmed / len(sources) > 0.9


def test_registration_codes_are_known_only_with_evidence():
    lists = code_lists()
    assert lists.registration_code_known(NATIONAL_REGISTRATION_CODE)
    assert lists.registration_code_known("110302")  # 北京经济技术开发区
    assert not lists.listed_in_gbt2260("110302")
    assert not lists.registration_code_known("110199")


def test_every_evidence_code_is_a_valid_credit_code_of_its_authority():
    for _, row in rows(FOLDER / "registration_codes.csv", ["code", "name", "evidence", "note"]):
        samples = re.findall(r"\b[0-9A-Z]{18}\b", row["evidence"])
        assert samples, row["code"]
        for sample in samples:
            assert validate_credit_code(sample)[2:8] == row["code"]


def test_a_missing_list_is_reported(tmp_path: Path):
    with pytest.raises(RegionContentError, match=r"historical_codes\.csv：文件不存在"):
        read_code_lists(tmp_path)

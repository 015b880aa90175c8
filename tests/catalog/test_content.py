"""Every item file under content/items validates, and the catalog holds the items the domain needs."""

from __future__ import annotations

import pytest

from tongban.catalog.loader import display_path, item_paths, parse_item_file, read_catalog
from tongban.catalog.spec import ItemSpec
from tongban.licences.loader import read_types

from .conftest import CONTENT_DIR

ITEM_FILES = item_paths(CONTENT_DIR)
# Licence types the content may name: those of content/licences/types.yaml.
LICENCE_TYPES = {t.code for t in read_types(CONTENT_DIR).types}


def _specs() -> dict[str, ItemSpec]:
    return {f.spec.name: f.spec for f in read_catalog(CONTENT_DIR)}


@pytest.mark.parametrize("path", ITEM_FILES, ids=[p.name for p in ITEM_FILES])
def test_item_file_validates(path):
    spec = parse_item_file(path, display_path(CONTENT_DIR, path))
    assert spec.versions


def test_catalog_has_at_least_twenty_items_with_unique_codes():
    files = read_catalog(CONTENT_DIR)
    codes = [f.spec.code for f in files]
    assert len(files) >= 20
    assert len(codes) == len(set(codes))


def test_project_codes_are_marked_unverified():
    for spec in _specs().values():
        if spec.code.startswith("TB-"):
            for version in spec.versions:
                assert "code" in version.unverified, spec.name


def test_every_version_names_a_source_and_known_licence_types():
    for spec in _specs().values():
        for version in spec.versions:
            assert version.source.strip(), spec.name
            for material in version.materials:
                assert not material.licence_type or material.licence_type in LICENCE_TYPES, material.name


def test_the_three_modes_are_all_represented():
    modes = {m for spec in _specs().values() for v in spec.versions for m in v.modes}
    assert modes == {"online", "proxy", "multi_place"}


def test_pension_transfer_legs_follow_the_transfer_rules():
    spec = _specs()["企业职工基本养老保险关系转移接续"]
    (version,) = spec.versions
    assert version.jurisdiction_rule == "destination"
    assert [(leg.place, leg.limit) for leg in version.legs] == [
        ("destination", 15),
        ("origin", 15),
        ("destination", 15),
    ]


def test_medical_insurance_transfer_from_november_2021():
    spec = _specs()["基本医疗保险关系转移接续"]
    (version,) = spec.versions
    assert version.valid_from.isoformat() == "2021-11-01"
    assert "医保办发〔2021〕43号" in version.legal_basis
    assert [(leg.place, leg.limit) for leg in version.legs] == [("origin", 10), ("destination", 5)]


def test_household_migration_offers_the_five_kinds():
    spec = _specs()["户口迁移"]
    kinds = next(f for f in spec.versions[0].form_fields if f.name == "migration_kind")
    assert kinds.choices == ["工作调动", "大中专院校录取", "大中专院校毕业", "夫妻投靠", "父母投靠子女"]


def test_marriage_registration_versions_follow_the_pilots():
    spec = _specs()["内地居民结婚登记"]
    periods = [(v.valid_from.isoformat(), v.valid_until and v.valid_until.isoformat()) for v in spec.versions]
    assert periods == [("2021-06-01", "2023-05-12"), ("2023-05-12", "2025-05-10"), ("2025-05-10", None)]
    nationwide = spec.versions[-1]
    assert nationwide.source == "婚姻登记条例（国务院令第804号）"
    assert nationwide.fees == "不收费"
    assert [m.code for m in nationwide.materials] == ["male_id_card", "female_id_card", "declaration"]
    pilot_nodes = [c.nodes for c in spec.coverage]
    assert len(pilot_nodes[0]) == 9 and len(pilot_nodes[1]) == 21 and pilot_nodes[2] == "all"

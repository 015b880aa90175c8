"""Finding items by the words people use: synonyms and abbreviations from content/catalog/synonyms.yaml."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.test import Client
from hypothesis import given, settings
from hypothesis import strategies as st

from tongban.catalog.loader import ContentError, load_catalog
from tongban.catalog.models import Item
from tongban.catalog.search import SynonymsError, item_filter, query_pieces, read_synonyms, synonyms

from .conftest import CONTENT_DIR

URL = "/api/v1/items"
YIBAO = {f"TB-yibao-00{n}" for n in range(1, 10)}
GONGJIJIN = {f"TB-gongjijin-{n:03d}" for n in range(1, 13)}
SOCIAL_SECURITY_CARD = {f"TB-renshe-0{n}" for n in range(13, 20)}


@pytest.fixture
def client(catalog, fixed_clock) -> Client:
    return Client()


def found(client: Client, q: str) -> set[str]:
    response = client.get(URL, {"q": q})
    assert response.status_code == 200, response.content
    return {item["code"] for item in response.json()["items"]}


@pytest.mark.parametrize(
    ("q", "expected", "only"),
    [
        # 医保: the items of the 医疗保障 departments, whose names mostly do not say so.
        ("医保", YIBAO, True),
        ("公积金", GONGJIJIN, True),
        ("社保", {"TB-renshe-004", "TB-shuiwu-003", *SOCIAL_SECURITY_CARD}, False),
        ("社保卡", SOCIAL_SECURITY_CARD, True),
        ("医保卡", SOCIAL_SECURITY_CARD | YIBAO, True),
        ("人社", {"TB-renshe-001", "TB-renshe-026"}, False),
        ("身份证", {"TB-gongan-002", "TB-gongan-003"}, True),
        ("户口", {"TB-gongan-001", "TB-gongan-004"}, True),
        ("落户", {"TB-gongan-001", "TB-gongan-004"}, True),
        ("驾照", {"TB-gongan-005", "TB-gongan-006", "TB-gongan-007"}, True),
        ("营业执照", {"TB-shichang-001", "TB-shichang-003", "TB-shichang-010"}, False),
        ("个体户", {"TB-shichang-002"}, True),
        ("退休", {"TB-gongjijin-008", "TB-renshe-001", "TB-renshe-023"}, False),
        ("失业金", {"TB-renshe-012"}, True),
        ("生育险", {"TB-yibao-008", "TB-yibao-009"}, True),
        ("结婚证", {"TB-minzheng-001", "TB-minzheng-003"}, True),
        ("教资", {"TB-jiaoyu-003", "TB-jiaoyu-004"}, True),
        ("纳税证明", {"TB-shuiwu-002"}, True),
        # A synonym inside a longer query, and the rest of the query still narrows.
        ("医保报销", {"TB-yibao-003", "TB-yibao-004", "TB-yibao-005", "TB-yibao-007"}, True),
        ("医保关系转移", {"TB-yibao-001"}, True),
        ("补办身份证", {"TB-gongan-003"}, True),
        ("社保卡挂失", {"TB-renshe-016"}, True),
        ("公积金 退休", {"TB-gongjijin-008"}, True),
    ],
)
def test_synonyms_find_the_items_people_mean(client, q, expected, only):
    result = found(client, q)
    assert expected <= result, sorted(expected - result)
    if only:
        assert result == expected, sorted(result - expected)


def test_without_synonyms_the_abbreviation_finds_nothing(catalog):
    """What the synonyms add: the catalog's names and functions never say 医保."""
    assert not Item.objects.filter(item_filter("医保", table={})).exists()
    assert set(Item.objects.filter(item_filter("医保")).values_list("code", flat=True)) == YIBAO


def test_every_synonym_finds_something(catalog):
    for term in synonyms():
        assert Item.objects.filter(item_filter(term)).exists(), term


@pytest.mark.parametrize("q", ["量子纠缠", "医保 量子纠缠", "qxzzwq", "TB-nothing-999", "火星移民"])
def test_a_nonsense_query_finds_none(client, q):
    assert found(client, q) == set()


def test_the_words_as_typed_still_work(client):
    assert found(client, "ylbx") >= {"TB-renshe-001"}
    assert found(client, "TB-renshe-001") == {"TB-renshe-001"}
    assert found(client, "居民身份证换领") == {"TB-gongan-003"}
    assert found(client, "医疗保障") == YIBAO  # the department function's own name


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet="医保社公积金卡报销户口驾照退休量子 ", min_size=1, max_size=12))
def test_pieces_cover_the_query(q):
    """Every character of the query (but spaces) is in exactly one piece, in order, with its own words first."""
    table = read_synonyms(CONTENT_DIR)
    pieces = query_pieces(q, table)
    assert "".join(piece.words[0] for piece in pieces) == "".join(q.split())
    for piece in pieces:
        assert piece.words[0] not in table or piece.words == table[piece.words[0]][: len(piece.words)]


# --- the synonyms file ----------------------------------------------------------------------------


def write_synonyms(content: Path, text: str) -> Path:
    (content / "catalog").mkdir(parents=True, exist_ok=True)
    (content / "catalog" / "synonyms.yaml").write_text(text, encoding="utf-8")
    return content


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("synonyms:\n  - {term: 医保, kind: common}\n", "synonyms[0].means：缺少必填字段"),
        ("synonyms:\n  - {term: 医保, means: [医疗保障], kind: official}\n", "官方简称须注明出处"),
        ("synonyms:\n  - {term: yb, means: [医疗保障], kind: common}\n", "synonyms[0].term：必须是不含空格的中文词语"),
        (
            "synonyms:\n  - {term: 医保, means: [医疗保障], kind: common}\n  - {term: 医保, means: [医], kind: common}",
            "synonyms[1].term：“医保”重复",
        ),
        ("synonyms:\n  - {term: 医保, means: [医疗保障], kind: slang}\n", "只能是 official（官方简称）或 common"),
        ("synonyms:\n  - {term: 医保, means: [医疗保障], kind: common, note: x}\n", "不认识的字段"),
        ("synonyms:\n  - {term: 医保, means: [], kind: common}\n", "synonyms[0].means：至少需要一项"),
        ("synonyms: [\n", "YAML 格式错误"),
    ],
)
def test_a_broken_synonyms_file_is_refused_with_chinese_messages(tmp_path, text, message):
    with pytest.raises(SynonymsError) as raised:
        read_synonyms(write_synonyms(tmp_path, text))
    assert any(message in error for error in raised.value.errors), raised.value.errors
    assert all(error.startswith(f"{tmp_path.name}/catalog/synonyms.yaml") for error in raised.value.errors)


def test_loading_content_checks_the_synonyms_and_writes_nothing_when_they_are_broken(nodes, tmp_path):
    (tmp_path / "items").mkdir()
    write_synonyms(tmp_path, "synonyms:\n  - {term: 医保, means: [医疗保障], kind: official}\n")
    with pytest.raises(ContentError) as raised:
        load_catalog(tmp_path)
    assert "官方简称须注明出处" in str(raised.value)
    assert not Item.objects.exists()
    assert load_catalog(CONTENT_DIR)["synonyms"] == len(read_synonyms(CONTENT_DIR))


def test_an_edited_synonyms_file_is_read_again(catalog, tmp_path, settings):
    settings.CONTENT_DIR = write_synonyms(tmp_path, "synonyms:\n  - {term: 医保, means: [医疗保障], kind: common}\n")
    assert Item.objects.filter(item_filter("医保")).count() == len(YIBAO)
    path = write_synonyms(tmp_path, "synonyms:\n  - {term: 五险, means: [养老保险], kind: common}\n")
    stat = (path / "catalog" / "synonyms.yaml").stat()
    os.utime(path / "catalog" / "synonyms.yaml", ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    assert not Item.objects.filter(item_filter("医保")).exists()
    assert Item.objects.filter(item_filter("五险")).exists()

"""GB/T 36904 licence identifiers and their ISO 7064 MOD 37,36 check character."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tongban.errors import DomainError
from tongban.licences.identifiers import ALPHABET, check_character, make_identifier, parse_identifier

# Both published samples (domain.md §8).
SAMPLES = (
    "1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.001.U",
    "1.2.156.3005.2.11100000MB03271699022.340100.000000016.001.9",
)


@pytest.mark.parametrize("sample", SAMPLES)
def test_the_published_samples_validate(sample):
    identifier = parse_identifier(sample)
    assert str(identifier) == sample


def test_the_parts_of_a_sample():
    identifier = parse_identifier(SAMPLES[1])
    assert (identifier.type_code, identifier.issuer_code, identifier.serial, identifier.version) == (
        "11100000MB03271699022",
        "340100",
        "000000016",
        "001",
    )


@given(
    sample=st.sampled_from(SAMPLES),
    position=st.integers(min_value=len("1.2.156.3005.2."), max_value=200),
    replacement=st.sampled_from(ALPHABET),
)
def test_any_one_character_change_fails(sample, position, replacement):
    index = position % len(sample)
    if index < len("1.2.156.3005.2.") or sample[index] == "." or sample[index] == replacement:
        return
    changed = sample[:index] + replacement + sample[index + 1 :]
    with pytest.raises(DomainError) as caught:
        parse_identifier(changed)
    assert caught.value.code == "invalid_licence_identifier"


@given(
    type_code=st.text(ALPHABET, min_size=21, max_size=21),
    issuer=st.text(ALPHABET, min_size=6, max_size=18),
    serial=st.text(ALPHABET, min_size=1, max_size=20),
    version=st.integers(min_value=1, max_value=999),
)
def test_what_is_made_parses_back(type_code, issuer, serial, version):
    made = make_identifier(type_code, issuer, serial, version)
    parsed = parse_identifier(made)
    assert (parsed.type_code, parsed.issuer_code, parsed.serial, int(parsed.version)) == (
        type_code,
        issuer,
        serial,
        version,
    )


def test_the_check_character_is_mod_37_36():
    # A hybrid system: the empty body leaves the product at 36, whose complement is 1.
    assert check_character("") == "1"
    assert check_character("11100000MB03271699022340100000000016001") == "9"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "1.2.156.3005.2",
        "2.16.156.3005.2.11100000MB03271699022.340100.000000016.001.9",
        "1.2.156.3005.2.11100000MB03271699022.340100.000000016.1.9",
        "1.2.156.3005.2.11100000mb03271699022.340100.000000016.001.9",
        "1.2.156.3005.2.11100000MB03271699022.340100.000000016.001",
        "1.2.156.3005.2.11100000MB03271699022.340100.000000016.001.99",
    ],
)
def test_malformed_identifiers_are_refused_in_chinese(text):
    with pytest.raises(DomainError) as caught:
        parse_identifier(text)
    assert caught.value.code == "invalid_licence_identifier" and "电子证照标识" in caught.value.detail

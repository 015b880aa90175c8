"""The golden examples in docs/protocol-examples/ are what the implementation makes: the canonical bytes
stored beside each envelope are the ones `canonical_bytes` rebuilds from it, SM3SUMS lists their
digests, the signature verifies, the key is the GB/T 32918.5 Annex A test key, and each example is
still the one tools/make_golden_examples.py defines."""

from __future__ import annotations

import base64
import importlib.util
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from tongban import crypto
from tongban.exchange.envelope import Envelope, canonical_bytes

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "docs" / "protocol-examples"
SCHEMAS = ROOT / "docs" / "protocol-schemas"
NAMES = sorted(path.name.removesuffix(".json") for path in EXAMPLES.glob("*.json"))
# GB/T 32918.5-2017 Annex A: d_A and the public key (x_A, y_A) it gives.
ANNEX_A_D = 0x3945208F7B2144B13F36E38AC6D39F95889393692860B51A42FB81EF4DF7C5B8
ANNEX_A_POINT = (
    "04"
    "09F9DF311E5421A150DD7D161E4BC5C672179FAD1833FC076BB08FF356F35020"
    "CCEA490CE26775A52DC6EA718CC1AA600AED05FBF35E084A6632F6072DA9AD13"
).lower()


def _example(name: str) -> dict[str, Any]:
    return json.loads((EXAMPLES / f"{name}.json").read_text(encoding="utf-8"))


def _sums() -> dict[str, str]:
    lines = (EXAMPLES / "SM3SUMS").read_text(encoding="utf-8").splitlines()
    return {file: digest for digest, file in (line.split("  ") for line in lines)}


def _tool():
    spec = importlib.util.spec_from_file_location("make_golden_examples", ROOT / "tools" / "make_golden_examples.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_there_are_examples_of_numbers_and_text_and_every_one_is_listed():
    assert {"case.action", "case.action.numbers", "case.action.text"} <= set(NAMES)
    assert set(_sums()) == {f"{name}.canonical.txt" for name in NAMES}


@pytest.mark.parametrize("name", NAMES)
def test_the_stored_bytes_are_what_the_envelope_encodes_to(name):
    envelope = Envelope.from_dict(_example(name)["envelope"])
    stored = (EXAMPLES / f"{name}.canonical.txt").read_bytes()
    assert canonical_bytes(envelope) == stored
    assert crypto.sm3_hex(stored) == _sums()[f"{name}.canonical.txt"]


@pytest.mark.parametrize("name", NAMES)
def test_the_signature_verifies_with_the_annex_a_test_key(name):
    example = _example(name)
    envelope = Envelope.from_dict(example["envelope"])
    public = crypto.load_public_key_pem(example["public_key"])
    annex_a = crypto.SM2PrivateKey(ANNEX_A_D).public_key()
    assert public.to_der() == annex_a.to_der() and public.to_der().hex().endswith(ANNEX_A_POINT)
    assert envelope.key_id == public.fingerprint()
    signature = base64.b64decode(envelope.signature, validate=True)
    assert crypto.verify(public, canonical_bytes(envelope), signature)
    assert not crypto.verify(public, canonical_bytes(envelope) + b" ", signature)


@pytest.mark.parametrize("name", NAMES)
def test_each_example_is_the_one_the_tool_defines_and_matches_its_schemas(name):
    tool = _tool()
    defined = tool.EXAMPLES[name]().to_dict()
    stored = _example(name)["envelope"]
    assert {**stored, "signature": ""} == defined
    for schema, value in (("envelope", stored), (stored["type"], stored["payload"])):
        document = json.loads((SCHEMAS / f"{schema}.schema.json").read_text(encoding="utf-8"))
        jsonschema.validate(value, document, format_checker=jsonschema.FormatChecker())


def test_the_examples_carry_what_json_parse_would_lose():
    numbers = (EXAMPLES / "case.action.numbers.canonical.txt").read_text(encoding="utf-8")
    text = (EXAMPLES / "case.action.text.canonical.txt").read_text(encoding="utf-8")
    assert '"beyond_safe":9007199254740993' in numbers and '"one":1.0' in numbers and "e-05" in numbers
    assert "𠮷" in text and "\\u0001" in text and "\u2028" in text
    assert text.index('"｡"') < text.index('"😀"')  # code-point order; UTF-16 order would swap them

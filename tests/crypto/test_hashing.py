"""SM3 and HMAC-SM3: the standard's vectors, agreement with both SM2 libraries' SM3, and with openssl."""

from __future__ import annotations

import gmalg
import gmalglib
from hypothesis import given
from hypothesis import strategies as st

from tongban.crypto import hmac_sm3, hmac_sm3_verify, sm3, sm3_hex

# GB/T 32905-2016, Appendix A
ABC = "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
ABCD_16 = "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"


def test_sm3_of_abc() -> None:
    assert sm3(b"abc") == bytes.fromhex(ABC)
    assert sm3_hex(b"abc") == ABC


def test_sm3_of_the_512_bit_message() -> None:
    assert sm3_hex(b"abcd" * 16) == ABCD_16


def test_sm3_takes_any_bytes_like() -> None:
    assert sm3(bytearray(b"abc")) == sm3(memoryview(b"abc")) == bytes.fromhex(ABC)


@given(st.binary(max_size=300))
def test_sm3_agrees_with_gmalglib_and_gmalg(data: bytes) -> None:
    reference = gmalg.SM3()
    reference.update(data)
    assert sm3(data) == gmalglib.sm3_digest(data) == reference.value()


def test_hmac_sm3_matches_openssl(openssl) -> None:
    key = b"tongban-key"
    data = b"message digest" * 10
    output = openssl.ok("dgst", "-sm3", "-mac", "HMAC", "-macopt", f"hexkey:{key.hex()}", stdin=data)
    assert output.decode().strip().endswith(hmac_sm3(key, data).hex())


@given(st.binary(max_size=80), st.binary(max_size=200))
def test_hmac_sm3_verifies_its_own_tag_only(key: bytes, data: bytes) -> None:
    tag = hmac_sm3(key, data)
    assert len(tag) == 32
    assert hmac_sm3_verify(key, data, tag)
    assert not hmac_sm3_verify(key, data + b"\x00", tag)
    assert not hmac_sm3_verify(key + b"\x01", data, tag)  # (a trailing zero byte would be the same HMAC key)
    assert not hmac_sm3_verify(key, data, tag[:-1])

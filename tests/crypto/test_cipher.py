"""SM4: the standard's block vector, the RFC 8998 SM4-GCM vector, round trips and tamper detection."""

from __future__ import annotations

import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from hypothesis import given
from hypothesis import strategies as st

from tongban.crypto import DecryptionError, ParameterError, generate_sm4_key, sm4_decrypt, sm4_encrypt
from tongban.crypto.cipher import OVERHEAD, gcm_open, gcm_seal

KEY = generate_sm4_key()


def test_sm4_block_vector_of_gb_t_32907() -> None:
    key = bytes.fromhex("0123456789abcdeffedcba9876543210")
    encryptor = Cipher(algorithms.SM4(key), modes.ECB()).encryptor()
    assert (encryptor.update(key) + encryptor.finalize()).hex() == "681edf34d206965e86b3e94f536e4246"


def test_sm4_gcm_vector_of_rfc_8998() -> None:
    key = bytes.fromhex("0123456789ABCDEFFEDCBA9876543210")
    nonce = bytes.fromhex("00001234567800000000ABCD")
    aad = bytes.fromhex("FEEDFACEDEADBEEFFEEDFACEDEADBEEFABADDAD2")
    plaintext = bytes.fromhex(
        "AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBBCCCCCCCCCCCCCCCCDDDDDDDDDDDDDDDD"
        "EEEEEEEEEEEEEEEEFFFFFFFFFFFFFFFFEEEEEEEEEEEEEEEEAAAAAAAAAAAAAAAA"
    )
    ciphertext, tag = gcm_seal(key, nonce, plaintext, aad)
    assert ciphertext.hex().upper() == (
        "17F399F08C67D5EE19D0DC9969C4BB7D5FD46FD3756489069157B282BB200735"
        "D82710CA5C22F0CCFA7CBF93D496AC15A56834CBCF98C397B4024A2691233B8D"
    )
    assert tag.hex().upper() == "83DE3541E4C2B58177E065A9BF7B62EC"
    assert gcm_open(key, nonce, ciphertext, tag, aad) == plaintext
    with pytest.raises(InvalidTag):
        gcm_open(key, nonce, ciphertext, bytes(16), aad)


@given(st.binary(max_size=2000), st.binary(max_size=64))
def test_round_trip(plaintext: bytes, associated_data: bytes) -> None:
    sealed = sm4_encrypt(KEY, plaintext, associated_data)
    assert len(sealed) == len(plaintext) + OVERHEAD
    assert sm4_decrypt(KEY, sealed, associated_data) == plaintext


def test_each_encryption_uses_a_fresh_nonce() -> None:
    assert sm4_encrypt(KEY, b"same") != sm4_encrypt(KEY, b"same")


@given(st.binary(min_size=0, max_size=100), st.data())
def test_any_flipped_bit_is_detected(plaintext: bytes, data: st.DataObject) -> None:
    sealed = bytearray(sm4_encrypt(KEY, plaintext, b"record-1"))
    index = data.draw(st.integers(min_value=0, max_value=len(sealed) - 1))
    sealed[index] ^= 1 << data.draw(st.integers(min_value=0, max_value=7))
    with pytest.raises(DecryptionError):
        sm4_decrypt(KEY, bytes(sealed), b"record-1")


def test_wrong_key_or_context_or_truncation_is_detected() -> None:
    sealed = sm4_encrypt(KEY, b"110105199001011234", b"person:7")
    for key, value, context in [
        (generate_sm4_key(), sealed, b"person:7"),
        (KEY, sealed, b"person:8"),
        (KEY, sealed[:-1], b"person:7"),
        (KEY, sealed[: OVERHEAD - 1], b"person:7"),
        (KEY, b"", b"person:7"),
    ]:
        with pytest.raises(DecryptionError) as caught:
            sm4_decrypt(key, value, context)
        assert caught.value.code == "crypto.decrypt_failed"
        assert "密文" in caught.value.detail


def test_key_must_be_sixteen_bytes() -> None:
    with pytest.raises(ParameterError, match="16 字节"):
        sm4_encrypt(b"short", b"data")
    with pytest.raises(ParameterError):
        sm4_decrypt(bytes(32), sm4_encrypt(KEY, b"data"))

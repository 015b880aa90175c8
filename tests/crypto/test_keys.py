"""Key encodings: round trips between backends and OpenSSL, and typed errors for malformed keys."""

from __future__ import annotations

import base64
import pickle

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from tongban.crypto import (
    KeyFormatError,
    ParameterError,
    SM2PrivateKey,
    SM2PublicKey,
    asn1,
    dump_private_key_der,
    dump_private_key_hex,
    dump_private_key_pem,
    dump_public_key_der,
    dump_public_key_hex,
    dump_public_key_pem,
    generate_keypair,
    load_private_key_der,
    load_private_key_hex,
    load_private_key_pem,
    load_public_key_der,
    load_public_key_hex,
    load_public_key_pem,
    sign,
    verify,
)
from tongban.crypto.curve import N, P
from tongban.crypto.keys import EC_PUBLIC_KEY_OID, SM2_OID


def _pem(label: str, der: bytes) -> str:
    return f"-----BEGIN {label}-----\n{base64.b64encode(der).decode()}\n-----END {label}-----\n"


def test_private_key_round_trips(backend_name: str) -> None:
    key = generate_keypair(backend=backend_name)
    assert load_private_key_pem(dump_private_key_pem(key)) == key
    assert load_private_key_der(dump_private_key_der(key)) == key
    assert load_private_key_hex(dump_private_key_hex(key)) == key
    assert load_private_key_pem(key.to_pem().encode()) == key
    assert len(dump_private_key_hex(key)) == 64


def test_public_key_round_trips(backend_name: str) -> None:
    public = generate_keypair(backend=backend_name).public_key()
    assert load_public_key_pem(dump_public_key_pem(public)) == public
    assert load_public_key_der(dump_public_key_der(public)) == public
    assert load_public_key_hex(dump_public_key_hex(public)) == public
    hex_point = dump_public_key_hex(public)
    assert len(hex_point) == 130 and hex_point.startswith("04")
    assert load_public_key_hex(hex_point[2:]) == public  # bare x||y
    y = int(hex_point[66:], 16)
    assert load_public_key_hex(("03" if y & 1 else "02") + hex_point[2:66]) == public  # compressed


def test_public_key_is_the_same_from_every_backend() -> None:
    scalar = generate_keypair().to_bytes()
    points = {SM2PrivateKey(scalar).public_key(name).point for name in ("gmalglib", "gmalg")}
    assert len(points) == 1


def test_openssl_private_key_pem_loads_and_dumps_back_byte_for_byte(openssl) -> None:
    pem = openssl.ok("genpkey", "-algorithm", "SM2").decode()
    key = load_private_key_pem(pem)
    assert key.to_pem() == pem
    public_pem = openssl.ok("pkey", "-pubout", stdin=pem.encode()).decode()
    assert key.public_key().to_pem() == public_pem


def test_our_keys_load_in_openssl(openssl) -> None:
    key = generate_keypair()
    text = openssl.ok("pkey", "-text", "-noout", stdin=key.to_pem().encode()).decode()
    assert "ASN1 OID: SM2" in text
    assert openssl.ok("pkey", "-pubout", stdin=key.to_pem().encode()).decode() == key.public_key().to_pem()
    public_der = openssl.ok("pkey", "-pubin", "-outform", "DER", stdin=key.public_key().to_pem().encode())
    assert public_der == key.public_key().to_der()


def test_sec1_pem_with_the_sm2_curve_loads() -> None:
    key = generate_keypair()
    sec1 = asn1.encode_sequence(
        asn1.encode_integer(1),
        asn1.encode(asn1.OCTET_STRING, key.to_bytes()),
        asn1.encode(asn1.CONTEXT_0, asn1.encode_oid(SM2_OID)),
    )
    assert load_private_key_pem(_pem("EC PRIVATE KEY", sec1)) == key
    without_curve = asn1.encode_sequence(asn1.encode_integer(1), asn1.encode(asn1.OCTET_STRING, key.to_bytes()))
    with pytest.raises(KeyFormatError, match="SM2 曲线"):
        load_private_key_pem(_pem("EC PRIVATE KEY", without_curve))


def test_algorithm_given_as_the_sm2_oid_itself_loads() -> None:
    public = generate_keypair().public_key()
    der = asn1.encode_sequence(asn1.encode_sequence(asn1.encode_oid(SM2_OID)), asn1.encode_bit_string(public.point))
    assert load_public_key_der(der) == public


def test_a_p256_key_is_refused_as_not_sm2() -> None:
    other = ec.generate_private_key(ec.SECP256R1())
    private_pem = other.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public_pem = other.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    with pytest.raises(KeyFormatError, match="不是 SM2 密钥"):
        load_private_key_pem(private_pem)
    with pytest.raises(KeyFormatError, match="不是 SM2 密钥"):
        load_public_key_pem(public_pem)


def test_encrypted_private_key_is_refused_with_a_clear_message() -> None:
    other = ec.generate_private_key(ec.SECP256R1())
    encrypted = other.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"secret"),
    )
    with pytest.raises(KeyFormatError, match="加密"):
        load_private_key_pem(encrypted)


def test_embedded_public_key_must_match() -> None:
    key, other = generate_keypair(), generate_keypair()
    inner = asn1.encode_sequence(
        asn1.encode_integer(1),
        asn1.encode(asn1.OCTET_STRING, key.to_bytes()),
        asn1.encode(asn1.CONTEXT_1, asn1.encode_bit_string(other.public_key().point)),
    )
    algorithm = asn1.encode_sequence(asn1.encode_oid(EC_PUBLIC_KEY_OID), asn1.encode_oid(SM2_OID))
    der = asn1.encode_sequence(asn1.encode_integer(0), algorithm, asn1.encode(asn1.OCTET_STRING, inner))
    with pytest.raises(KeyFormatError, match="不匹配"):
        load_private_key_der(der)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "not a key",
        "-----BEGIN PUBLIC KEY-----\nMFkw\n-----END PUBLIC KEY-----\n",
        "-----BEGIN PUBLIC KEY-----\n!!!!\n-----END PUBLIC KEY-----\n",
        "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
    ],
)
def test_malformed_pem_raises_key_format_error(text: str) -> None:
    with pytest.raises(KeyFormatError) as caught:
        load_public_key_pem(text)
    assert caught.value.code == "crypto.key_format"
    with pytest.raises(KeyFormatError):
        load_private_key_pem(text)


def test_malformed_der_raises_key_format_error() -> None:
    good = generate_keypair()
    for der in [b"", b"\x30", b"\x30\x80\x00\x00", good.public_key().to_der() + b"\x00", good.to_der()[:-1]]:
        with pytest.raises(KeyFormatError):
            load_public_key_der(der)
        with pytest.raises(KeyFormatError):
            load_private_key_der(der)


@pytest.mark.parametrize(
    "text",
    [
        "04" + "00" * 64,  # not on the curve
        "04" + f"{P:064x}" + "00" * 32,  # coordinate out of range
        "05" + "11" * 64,  # unknown prefix
        "02" + "ff" * 32,  # x >= p
        "04" + "11" * 10,  # wrong length
        "zz",
    ],
)
def test_bad_public_points_raise(text: str) -> None:
    with pytest.raises(KeyFormatError):
        load_public_key_hex(text)


@pytest.mark.parametrize("value", [0, N - 1, N, 2**256 - 1])
def test_scalars_outside_the_range_raise(value: int) -> None:
    with pytest.raises(KeyFormatError, match="取值范围"):
        SM2PrivateKey(value)
    with pytest.raises(KeyFormatError):
        load_private_key_hex(f"{value % 2**256:064x}")


def test_private_hex_must_be_32_bytes() -> None:
    with pytest.raises(KeyFormatError, match="64 个十六进制字符"):
        load_private_key_hex("01")
    with pytest.raises(KeyFormatError, match="十六进制"):
        load_private_key_hex("x" * 64)


def test_repr_never_shows_the_private_scalar() -> None:
    key = generate_keypair()
    assert key.to_hex() not in repr(key)
    assert key.to_hex() not in str(key)
    assert repr(key.public_key()).startswith("SM2PublicKey(")


def test_keys_compare_hash_and_pickle() -> None:
    key = generate_keypair()
    sign(key, b"warm the caches")
    copy = pickle.loads(pickle.dumps(key))
    assert copy == key and hash(copy) == hash(key)
    public = pickle.loads(pickle.dumps(key.public_key()))
    assert public == key.public_key() and {public, key.public_key()} == {public}
    assert key != generate_keypair()
    assert len(public.fingerprint()) == 64


def test_wrong_key_types_raise_key_format_error() -> None:
    key = generate_keypair()
    with pytest.raises(KeyFormatError, match="私钥"):
        sign(key.public_key(), b"data")  # type: ignore[arg-type]
    with pytest.raises(KeyFormatError, match="公钥"):
        verify(key, b"data", b"")  # type: ignore[arg-type]
    with pytest.raises(KeyFormatError):
        SM2PublicKey(b"\x04" + bytes(64))


@pytest.mark.parametrize("user_id", [b"", b"x" * 8192, "1234567812345678"])
def test_bad_user_ids_raise_parameter_error(user_id: object) -> None:
    key = generate_keypair()
    with pytest.raises(ParameterError, match="用户标识"):
        sign(key, b"data", user_id)  # type: ignore[arg-type]
    with pytest.raises(ParameterError):
        verify(key.public_key(), b"data", b"", user_id)  # type: ignore[arg-type]


def test_longest_user_id_works() -> None:
    key = generate_keypair()
    user_id = b"u" * 8191
    assert verify(key.public_key(), b"data", sign(key, b"data", user_id), user_id)

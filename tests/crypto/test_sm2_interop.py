"""Interoperability: every backend verifies every other's signatures, and OpenSSL 3's, both ways."""

from __future__ import annotations

import itertools

import pytest

from tongban.crypto import (
    DEFAULT_USER_ID,
    generate_keypair,
    load_private_key_pem,
    load_public_key_pem,
    sign,
    verify,
)
from tongban.crypto.backends import available_backends

from .conftest import BACKENDS

MESSAGES = [b"", b"message digest", "跨省通办 370000→440000".encode(), bytes(range(256)) * 40]
PAIRS = list(itertools.product(BACKENDS, repeat=2))


def test_both_backends_are_installed() -> None:
    assert available_backends() == ("gmalglib", "gmalg")


@pytest.mark.parametrize(("signer", "verifier"), PAIRS)
def test_sign_with_one_backend_verify_with_another(signer: str, verifier: str) -> None:
    key = generate_keypair(backend=signer)
    for message in MESSAGES:
        signature = sign(key, message, backend=signer)
        assert verify(key.public_key(), message, signature, backend=verifier)
        assert not verify(key.public_key(), message + b".", signature, backend=verifier)


@pytest.mark.parametrize("user_id", [DEFAULT_USER_ID, b"ALICE123@YAHOO.COM", b"370000"])
def test_openssl_signs_each_backend_verifies(openssl, backend_name: str, user_id: bytes) -> None:
    openssl.ok("genpkey", "-algorithm", "SM2", "-out", "key.pem")
    public_pem = openssl.ok("pkey", "-in", "key.pem", "-pubout")
    message = "浙江省 办件 330000-2025-000123".encode()
    openssl.write("message", message)
    openssl.ok(
        "pkeyutl", "-sign", "-rawin", "-digest", "sm3", "-inkey", "key.pem",
        "-pkeyopt", f"distid:{user_id.decode()}", "-in", "message", "-out", "signature",
    )  # fmt: skip
    public = load_public_key_pem(public_pem)
    signature = openssl.read("signature")
    assert verify(public, message, signature, user_id, backend=backend_name)
    assert not verify(public, message + b"!", signature, user_id, backend=backend_name)
    assert load_private_key_pem(openssl.read("key.pem")).public_key() == public


@pytest.mark.parametrize("user_id", [DEFAULT_USER_ID, b"ALICE123@YAHOO.COM"])
def test_each_backend_signs_openssl_verifies(openssl, backend_name: str, user_id: bytes) -> None:
    key = generate_keypair(backend=backend_name)
    openssl.write("public.pem", key.public_key().to_pem())
    message = "山东省 → 广东省：材料核验".encode()
    openssl.write("message", message)
    openssl.write("signature", sign(key, message, user_id, backend=backend_name))
    verified = openssl.run(
        "pkeyutl", "-verify", "-rawin", "-digest", "sm3", "-pubin", "-inkey", "public.pem",
        "-pkeyopt", f"distid:{user_id.decode()}", "-in", "message", "-sigfile", "signature",
    )  # fmt: skip
    assert verified.returncode == 0, verified.stderr.decode(errors="replace")
    assert b"Signature Verified Successfully" in verified.stdout
    openssl.write("tampered", message + b"!")
    tampered = openssl.run(
        "pkeyutl", "-verify", "-rawin", "-digest", "sm3", "-pubin", "-inkey", "public.pem",
        "-pkeyopt", f"distid:{user_id.decode()}", "-in", "tampered", "-sigfile", "signature",
    )  # fmt: skip
    assert tampered.returncode != 0


def test_openssl_signs_with_our_private_key_pem(openssl, backend_name: str) -> None:
    key = generate_keypair()
    openssl.write("key.pem", key.to_pem())
    openssl.write("message", b"exchange envelope")
    openssl.ok(
        "pkeyutl", "-sign", "-rawin", "-digest", "sm3", "-inkey", "key.pem",
        "-pkeyopt", f"distid:{DEFAULT_USER_ID.decode()}", "-in", "message", "-out", "signature",
    )  # fmt: skip
    assert verify(key.public_key(), b"exchange envelope", openssl.read("signature"), backend=backend_name)


def test_openssl_without_distid_uses_an_empty_id_not_the_default(openssl) -> None:
    # The pitfall the docs warn about: `openssl pkeyutl` signs with an empty user id unless told otherwise.
    openssl.ok("genpkey", "-algorithm", "SM2", "-out", "key.pem")
    openssl.write("message", b"envelope")
    openssl.ok("pkeyutl", "-sign", "-rawin", "-digest", "sm3", "-inkey", "key.pem", "-in", "message", "-out", "sig")
    public = load_private_key_pem(openssl.read("key.pem")).public_key()
    assert not verify(public, b"envelope", openssl.read("sig"))

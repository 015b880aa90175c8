"""The SM2 signature example of GB/T 32918.5-2017 Annex A (the recommended curve), on every backend.

ID_A is the default user id 1234567812345678. The published d, public key, Z_A, e, k, r and s are all
checked: the public key from d, Z_A and e through this package, the published (r, s) through each
backend's verify, and, with k injected, each backend's sign reproduces (r, s) exactly.
"""

from __future__ import annotations

import sys

import pytest

from tongban.crypto import (
    DEFAULT_USER_ID,
    SM2PrivateKey,
    identity_digest,
    load_private_key_hex,
    load_public_key_hex,
    message_digest,
    sign,
    verify,
)
from tongban.crypto.backends import get_backend
from tongban.crypto.signature import encode_signature

MESSAGE = b"message digest"
D = "3945208F7B2144B13F36E38AC6D39F95889393692860B51A42FB81EF4DF7C5B8"
X_A = "09F9DF311E5421A150DD7D161E4BC5C672179FAD1833FC076BB08FF356F35020"
Y_A = "CCEA490CE26775A52DC6EA718CC1AA600AED05FBF35E084A6632F6072DA9AD13"
Z_A = "B2E14C5C79C6DF5B85F4FE7ED8DB7A262B9DA7E07CCB0EA9F4747B8CCDA8A4F3"
E = "F0B43E94BA45ACCAACE692ED534382EB17E6AB5A19CE7B31F4486FDFC0D28640"
K = "59276E27D506861A16680F3AD9C02DCCEF3CC1FA3CDBE4CE6D54B80DEAC1BC21"
R = "F5A03B0648D2C4630EEAC513E1BB81A15944DA3827D5B74143AC7EACEEE720B3"
S = "B1B6AA29DF212FD8763182BC0D421CA1BB9038FD1F7F42D4840B69C485BBC1AA"

PUBLIC = load_public_key_hex("04" + X_A + Y_A)
SIGNATURE = encode_signature(int(R, 16), int(S, 16))


def test_the_annex_uses_the_default_user_id() -> None:
    id_a = bytes.fromhex("31323334353637383132333435363738")  # ID_A as printed in the annex
    assert id_a == DEFAULT_USER_ID


def test_public_key_from_d(backend_name: str) -> None:
    key = SM2PrivateKey(bytes.fromhex(D))
    assert key.public_key(backend_name) == PUBLIC
    assert get_backend(backend_name).public_point(bytes.fromhex(D)).hex().upper() == "04" + X_A + Y_A


def test_z_a_and_e() -> None:
    assert identity_digest(PUBLIC).hex().upper() == Z_A
    assert message_digest(PUBLIC, MESSAGE).hex().upper() == E


def test_published_signature_verifies(backend_name: str) -> None:
    assert verify(PUBLIC, MESSAGE, SIGNATURE, backend=backend_name)
    assert not verify(PUBLIC, b"message digesT", SIGNATURE, backend=backend_name)
    assert not verify(PUBLIC, MESSAGE, SIGNATURE, b"ALICE123@YAHOO.COM", backend=backend_name)


@pytest.mark.skipif(sys.byteorder != "little", reason="gmalglib 按主机字节序读取随机数，固定 k 只在小端主机上可复现")
def test_injected_k_reproduces_the_published_signature(backend_name: str) -> None:
    fixed = type(get_backend(backend_name)).with_fixed_nonce(int(K, 16))
    key = load_private_key_hex(D)
    assert sign(key, MESSAGE, backend=fixed) == SIGNATURE

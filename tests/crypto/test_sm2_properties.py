"""Properties of sign/verify on every backend: round trips, and False (never an exception) for anything else."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tongban.crypto import asn1, generate_keypair, sign, verify
from tongban.crypto.curve import N
from tongban.crypto.signature import decode_signature, encode_signature

KEY = generate_keypair()
PUBLIC = KEY.public_key()
OTHER = generate_keypair().public_key()

# gmalg is pure Python (tens of operations per second): fewer examples there.
EXAMPLES = {"gmalglib": 60, "gmalg": 8}


def _settings(backend_name: str):
    return settings(
        max_examples=EXAMPLES[backend_name],
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture],
    )


def test_round_trip_for_random_messages(backend_name: str) -> None:
    @_settings(backend_name)
    @given(st.binary(max_size=1024))
    def check(message: bytes) -> None:
        signature = sign(KEY, message, backend=backend_name)
        assert decode_signature(signature)  # strict DER, r and s in range
        assert verify(PUBLIC, message, signature, backend=backend_name)
        assert not verify(OTHER, message, signature, backend=backend_name)

    check()


def test_a_flipped_bit_in_the_message_fails(backend_name: str) -> None:
    @_settings(backend_name)
    @given(st.binary(min_size=1, max_size=256), st.data())
    def check(message: bytes, data: st.DataObject) -> None:
        signature = sign(KEY, message, backend=backend_name)
        flipped = bytearray(message)
        flipped[data.draw(st.integers(0, len(message) - 1))] ^= 1 << data.draw(st.integers(0, 7))
        assert not verify(PUBLIC, bytes(flipped), signature, backend=backend_name)

    check()


def test_a_flipped_bit_in_the_signature_fails(backend_name: str) -> None:
    signature = sign(KEY, b"envelope", backend=backend_name)

    @_settings(backend_name)
    @given(st.integers(0, len(signature) * 8 - 1))
    def check(bit: int) -> None:
        flipped = bytearray(signature)
        flipped[bit // 8] ^= 1 << (bit % 8)
        assert verify(PUBLIC, b"envelope", bytes(flipped), backend=backend_name) is False

    check()


def test_garbage_signatures_return_false(backend_name: str) -> None:
    @_settings(backend_name)
    @given(st.binary(max_size=120))
    def check(garbage: bytes) -> None:
        assert verify(PUBLIC, b"envelope", garbage, backend=backend_name) is False

    check()


def test_well_formed_but_wrong_signatures_return_false(backend_name: str) -> None:
    @_settings(backend_name)
    @given(st.integers(0, 2**264), st.integers(0, 2**264))
    def check(r: int, s: int) -> None:
        assert verify(PUBLIC, b"envelope", encode_signature(r, s), backend=backend_name) is False

    check()


@pytest.mark.parametrize(
    "signature",
    [
        encode_signature(0, 1),
        encode_signature(1, 0),
        encode_signature(N, 1),
        encode_signature(1, N),
        asn1.encode_sequence(asn1.encode_integer(1)),
        asn1.encode_sequence(asn1.encode_integer(1), asn1.encode_integer(1), asn1.encode_integer(1)),
        asn1.encode_sequence(asn1.encode(asn1.INTEGER, b"\xff"), asn1.encode_integer(1)),  # negative
        asn1.encode_sequence(asn1.encode(asn1.INTEGER, b"\x00\x01"), asn1.encode_integer(1)),  # non-minimal
        asn1.encode_sequence(asn1.encode(asn1.INTEGER, b""), asn1.encode_integer(1)),
        b"\x30\x80" + encode_signature(1, 1)[2:] + b"\x00\x00",  # indefinite length
        b"\x30\x81\x06" + encode_signature(1, 1)[2:],  # non-minimal length
        encode_signature(1, 1) + b"\x00",
        b"",
    ],
)
def test_malformed_der_returns_false(backend_name: str, signature: bytes) -> None:
    assert verify(PUBLIC, b"envelope", signature, backend=backend_name) is False


def test_non_canonical_encoding_of_a_valid_signature_is_refused(backend_name: str) -> None:
    signature = sign(KEY, b"envelope", backend=backend_name)
    r, s = decode_signature(signature)
    padded = asn1.encode_sequence(
        asn1.encode(asn1.INTEGER, b"\x00" + asn1.encode_integer(r)[2:]), asn1.encode_integer(s)
    )
    assert verify(PUBLIC, b"envelope", padded, backend=backend_name) is False
    assert verify(PUBLIC, b"envelope", signature, backend=backend_name) is True


def test_signing_the_same_message_twice_gives_different_signatures(backend_name: str) -> None:
    assert sign(KEY, b"once", backend=backend_name) != sign(KEY, b"once", backend=backend_name)


def test_bytes_like_messages_and_signatures(backend_name: str) -> None:
    signature = sign(KEY, bytearray(b"view"), backend=backend_name)
    assert verify(PUBLIC, memoryview(b"view"), bytearray(signature), backend=backend_name)


def test_a_signature_that_sums_to_the_point_at_infinity_returns_false(backend_name: str) -> None:
    # s·G + t·P = O when s + t·d = 0 (mod n): only the key's owner can build this, and it must still fail cleanly.
    d = int.from_bytes(KEY.to_bytes(), "big")
    t = 12345
    s = -t * d % N
    r = (t - s) % N
    assert verify(PUBLIC, b"envelope", encode_signature(r, s), backend=backend_name) is False

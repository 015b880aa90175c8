"""SM2 keys and their standard encodings.

- Private key: PKCS#8 `PRIVATE KEY` PEM/DER holding an RFC 5915 ECPrivateKey, algorithm id-ecPublicKey
  with the SM2 curve 1.2.156.10197.1.301 — byte for byte what `openssl genpkey -algorithm SM2` writes.
  SEC1 `EC PRIVATE KEY` PEM (with the SM2 curve named) also loads. Raw: 64 hex characters of d.
- Public key: SubjectPublicKeyInfo `PUBLIC KEY` PEM/DER with the same algorithm and curve. Raw:
  hex of 04||x||y (130 characters); bare x||y (128) and compressed 02/03||x (66) also load.

Every loader validates: the curve is SM2, the scalar lies in [1, n-2], the point lies on the curve,
and a public key embedded in a private key matches it. Anything else raises `KeyFormatError`.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import re

from tongban.crypto import asn1
from tongban.crypto.backends import Signer, SM2Backend, Verifier, get_backend
from tongban.crypto.curve import COORDINATE_SIZE, check_scalar, normalize_point
from tongban.crypto.errors import KeyFormatError
from tongban.crypto.hashing import sm3_hex

EC_PUBLIC_KEY_OID = "1.2.840.10045.2.1"
SM2_OID = "1.2.156.10197.1.301"

_PEM_BLOCK = re.compile(
    r"-----BEGIN ([A-Z0-9 ]+)-----(.*?)-----END \1-----",
    re.DOTALL,
)
_CACHE_LIMIT = 8


class SM2PublicKey:
    """An SM2 public key: a validated point, held as 04||x||y."""

    __slots__ = ("_point", "_verifiers")

    def __init__(self, point: bytes) -> None:
        self._point = normalize_point(bytes(point))
        self._verifiers: dict[tuple[SM2Backend, bytes], Verifier] = {}

    @property
    def point(self) -> bytes:
        return self._point

    def to_der(self) -> bytes:
        return asn1.encode_sequence(_ALGORITHM, asn1.encode_bit_string(self._point))

    def to_pem(self) -> str:
        return _pem("PUBLIC KEY", self.to_der())

    def to_hex(self) -> str:
        return self._point.hex()

    def fingerprint(self) -> str:
        """SM3 of the SubjectPublicKeyInfo DER, in hex: a stable key id."""
        return sm3_hex(self.to_der())

    def verifier(self, backend: SM2Backend, user_id: bytes) -> Verifier:
        key = (backend, user_id)
        verifier = self._verifiers.get(key)
        if verifier is None:
            if len(self._verifiers) >= _CACHE_LIMIT:
                self._verifiers.clear()
            verifier = self._verifiers[key] = backend.verifier(self._point, user_id)
        return verifier

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SM2PublicKey) and other._point == self._point

    def __hash__(self) -> int:
        return hash(self._point)

    def __repr__(self) -> str:
        return f"SM2PublicKey({self.fingerprint()[:16]}…)"

    def __reduce__(self) -> tuple[type[SM2PublicKey], tuple[bytes]]:
        return SM2PublicKey, (self._point,)


class SM2PrivateKey:
    """An SM2 private key d in [1, n-2]. Its repr never shows d."""

    __slots__ = ("_public", "_scalar", "_signers")

    def __init__(self, scalar: bytes | int, *, public_point: bytes | None = None) -> None:
        if isinstance(scalar, int):
            value = scalar
        else:
            if len(scalar) != COORDINATE_SIZE:
                raise KeyFormatError("SM2 私钥长度必须为 32 字节", f"got {len(scalar)} bytes")
            value = int.from_bytes(scalar, "big")
        self._scalar = check_scalar(value).to_bytes(COORDINATE_SIZE, "big")
        self._public: SM2PublicKey | None = None
        self._signers: dict[tuple[SM2Backend, bytes], Signer] = {}
        if public_point is not None:
            embedded = SM2PublicKey(public_point)
            if embedded != self.public_key():
                raise KeyFormatError("私钥与其中附带的公钥不匹配", "embedded public key is not d·G")

    def to_bytes(self) -> bytes:
        """d as 32 big-endian bytes. Handle with care."""
        return self._scalar

    def public_key(self, backend: str | SM2Backend | None = None) -> SM2PublicKey:
        """d·G, computed once (by the given or the default backend) and kept."""
        if self._public is None:
            self._public = SM2PublicKey(get_backend(backend).public_point(self._scalar))
        return self._public

    def to_der(self) -> bytes:
        ec_private_key = asn1.encode_sequence(
            asn1.encode_integer(1),
            asn1.encode(asn1.OCTET_STRING, self._scalar),
            asn1.encode(asn1.CONTEXT_1, asn1.encode_bit_string(self.public_key().point)),
        )
        return asn1.encode_sequence(asn1.encode_integer(0), _ALGORITHM, asn1.encode(asn1.OCTET_STRING, ec_private_key))

    def to_pem(self) -> str:
        return _pem("PRIVATE KEY", self.to_der())

    def to_hex(self) -> str:
        return self._scalar.hex()

    def signer(self, backend: SM2Backend, user_id: bytes) -> Signer:
        key = (backend, user_id)
        signer = self._signers.get(key)
        if signer is None:
            if len(self._signers) >= _CACHE_LIMIT:
                self._signers.clear()
            signer = self._signers[key] = backend.signer(self._scalar, self.public_key().point, user_id)
        return signer

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SM2PrivateKey) and hmac.compare_digest(other._scalar, self._scalar)

    def __hash__(self) -> int:
        return hash(self.public_key())

    def __repr__(self) -> str:
        return f"SM2PrivateKey(public={self.public_key().fingerprint()[:16]}…)"

    def __reduce__(self) -> tuple[type[SM2PrivateKey], tuple[bytes]]:
        return SM2PrivateKey, (self._scalar,)


_ALGORITHM = asn1.encode_sequence(asn1.encode_oid(EC_PUBLIC_KEY_OID), asn1.encode_oid(SM2_OID))


# PEM


def _pem(label: str, der: bytes) -> str:
    body = base64.b64encode(der).decode("ascii")
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    return f"-----BEGIN {label}-----\n" + "\n".join(lines) + f"\n-----END {label}-----\n"


def _text(data: str | bytes) -> str:
    if isinstance(data, str):
        return data
    try:
        return bytes(data).decode("ascii")
    except UnicodeDecodeError:
        raise KeyFormatError("密钥文件不是 PEM 文本", "PEM must be ASCII") from None


def _pem_der(data: str | bytes, labels: tuple[str, ...]) -> tuple[str, bytes]:
    """The label and DER of the first PEM block whose label is one of `labels`."""
    text = _text(data)
    found = []
    for match in _PEM_BLOCK.finditer(text):
        label, body = match.group(1), match.group(2)
        found.append(label)
        if label not in labels:
            continue
        if "ENCRYPTED" in body:
            break
        try:
            return label, base64.b64decode("".join(body.split()), validate=True)
        except binascii.Error:
            raise KeyFormatError("PEM 内容不是有效的 Base64", f"bad base64 in {label}") from None
    if "ENCRYPTED PRIVATE KEY" in found or "ENCRYPTED" in text:
        raise KeyFormatError("不支持加密的私钥文件，请先解密", "encrypted PEM is not supported")
    raise KeyFormatError(
        "未找到所需的密钥 PEM 块", f"expected one of {', '.join(labels)}; found {', '.join(found) or 'none'}"
    )


# DER structures


def _check_algorithm(element: asn1.Element) -> None:
    """AlgorithmIdentifier: id-ecPublicKey with the SM2 curve (or, as some tools write, the SM2 OID itself)."""
    if element.tag != asn1.SEQUENCE:
        raise ValueError("AlgorithmIdentifier must be a SEQUENCE")
    children = asn1.decode_children(element.content)
    if not 1 <= len(children) <= 2:
        raise ValueError("AlgorithmIdentifier must hold an OID and optional parameters")
    algorithm = asn1.decode_oid(children[0])
    parameters = children[1] if len(children) == 2 else None
    if algorithm == EC_PUBLIC_KEY_OID and parameters is not None and parameters.tag == asn1.OBJECT_IDENTIFIER:
        curve = asn1.decode_oid(parameters)
        if curve != SM2_OID:
            raise KeyFormatError("不是 SM2 密钥", f"EC key on curve {curve}, expected SM2 {SM2_OID}")
        return
    if algorithm == SM2_OID and (parameters is None or parameters.tag == asn1.NULL or parameters == children[0]):
        return
    raise KeyFormatError("不是 SM2 密钥", f"algorithm {algorithm} with parameters {parameters}")


def _decode_ec_private_key(der: bytes, *, curve_required: bool) -> SM2PrivateKey:
    """RFC 5915 ECPrivateKey."""
    children = asn1.decode_sequence(der)
    if len(children) < 2 or asn1.decode_integer(children[0]) != 1 or children[1].tag != asn1.OCTET_STRING:
        raise ValueError("ECPrivateKey must start with version 1 and an OCTET STRING")
    scalar = children[1].content
    if not 1 <= len(scalar) <= COORDINATE_SIZE:
        raise KeyFormatError("SM2 私钥长度无效", f"private key octet string of {len(scalar)} bytes")
    curve_seen = False
    public_point = None
    for child in children[2:]:
        if child.tag == asn1.CONTEXT_0:
            curve = asn1.decode_oid(asn1.read_element(child.content)[0])
            if curve != SM2_OID:
                raise KeyFormatError("不是 SM2 密钥", f"EC key on curve {curve}, expected SM2 {SM2_OID}")
            curve_seen = True
        elif child.tag == asn1.CONTEXT_1:
            public_point = asn1.decode_bit_string(asn1.read_element(child.content)[0])
        else:
            raise ValueError(f"unexpected element 0x{child.tag:02x} in ECPrivateKey")
    if curve_required and not curve_seen:
        raise KeyFormatError("EC 私钥未标明 SM2 曲线", "SEC1 key without the SM2 curve parameter")
    return SM2PrivateKey(scalar.rjust(COORDINATE_SIZE, b"\x00"), public_point=public_point)


def _decode_pkcs8(der: bytes) -> SM2PrivateKey:
    children = asn1.decode_sequence(der)
    if len(children) < 3 or asn1.decode_integer(children[0]) not in (0, 1):
        raise ValueError("PrivateKeyInfo must hold a version, an algorithm and a key")
    _check_algorithm(children[1])
    if children[2].tag != asn1.OCTET_STRING:
        raise ValueError("PrivateKeyInfo key must be an OCTET STRING")
    return _decode_ec_private_key(children[2].content, curve_required=False)


def _decode_spki(der: bytes) -> SM2PublicKey:
    children = asn1.decode_sequence(der)
    if len(children) != 2:
        raise ValueError("SubjectPublicKeyInfo must hold an algorithm and a key")
    _check_algorithm(children[0])
    return SM2PublicKey(asn1.decode_bit_string(children[1]))


def _malformed(kind: str, error: ValueError) -> KeyFormatError:
    return KeyFormatError(f"{kind}编码无效", str(error))


# Loaders and dumpers


def load_private_key_der(der: bytes) -> SM2PrivateKey:
    try:
        return _decode_pkcs8(bytes(der))
    except KeyFormatError:
        raise
    except ValueError as error:
        raise _malformed("SM2 私钥", error) from None


def load_private_key_pem(data: str | bytes) -> SM2PrivateKey:
    label, der = _pem_der(data, ("PRIVATE KEY", "EC PRIVATE KEY"))
    if label == "PRIVATE KEY":
        return load_private_key_der(der)
    try:
        return _decode_ec_private_key(der, curve_required=True)
    except KeyFormatError:
        raise
    except ValueError as error:
        raise _malformed("SM2 私钥", error) from None


def load_private_key_hex(text: str) -> SM2PrivateKey:
    raw = _unhex(text, "SM2 私钥")
    if len(raw) != COORDINATE_SIZE:
        raise KeyFormatError("SM2 私钥应为 64 个十六进制字符", f"got {len(raw)} bytes")
    return SM2PrivateKey(raw)


def load_public_key_der(der: bytes) -> SM2PublicKey:
    try:
        return _decode_spki(bytes(der))
    except KeyFormatError:
        raise
    except ValueError as error:
        raise _malformed("SM2 公钥", error) from None


def load_public_key_pem(data: str | bytes) -> SM2PublicKey:
    return load_public_key_der(_pem_der(data, ("PUBLIC KEY",))[1])


def load_public_key_hex(text: str) -> SM2PublicKey:
    """04||x||y, bare x||y or compressed 02/03||x, in hex."""
    raw = _unhex(text, "SM2 公钥")
    if len(raw) == 2 * COORDINATE_SIZE:
        raw = b"\x04" + raw
    return SM2PublicKey(raw)


def _unhex(text: str, kind: str) -> bytes:
    if not isinstance(text, str):
        raise KeyFormatError(f"{kind}十六进制编码应为字符串", f"got {type(text).__name__}")
    try:
        return bytes.fromhex("".join(text.split()))
    except ValueError:
        raise KeyFormatError(f"{kind}不是有效的十六进制", "non-hex characters") from None


def dump_private_key_der(key: SM2PrivateKey) -> bytes:
    return key.to_der()


def dump_private_key_pem(key: SM2PrivateKey) -> str:
    return key.to_pem()


def dump_private_key_hex(key: SM2PrivateKey) -> str:
    return key.to_hex()


def dump_public_key_der(key: SM2PublicKey) -> bytes:
    return key.to_der()


def dump_public_key_pem(key: SM2PublicKey) -> str:
    return key.to_pem()


def dump_public_key_hex(key: SM2PublicKey) -> str:
    return key.to_hex()

"""The SM2 curve (GB/T 32918.5-2017), point checks and the signer's identity digest Z_A.

Everything here is backend-independent pure Python and cheap (no scalar multiplication), so a key is
validated the same way whichever backend later uses it.
"""

from __future__ import annotations

from tongban.crypto.errors import KeyFormatError, ParameterError
from tongban.crypto.hashing import sm3

P = 0xFFFFFFFE_FFFFFFFF_FFFFFFFF_FFFFFFFF_FFFFFFFF_00000000_FFFFFFFF_FFFFFFFF
A = 0xFFFFFFFE_FFFFFFFF_FFFFFFFF_FFFFFFFF_FFFFFFFF_00000000_FFFFFFFF_FFFFFFFC
B = 0x28E9FA9E_9D9F5E34_4D5A9E4B_CF6509A7_F39789F5_15AB8F92_DDBCBD41_4D940E93
N = 0xFFFFFFFE_FFFFFFFF_FFFFFFFF_FFFFFFFF_7203DF6B_21C6052B_53BBF409_39D54123
GX = 0x32C4AE2C_1F198119_5F990446_6A39C994_8FE30BBF_F2660BE1_715A4589_334C74C7
GY = 0xBC3736A2_F4F6779C_59BDCEE3_6B692153_D0A9877C_C62A4740_02DF32E5_2139F0A0

COORDINATE_SIZE = 32
POINT_SIZE = 1 + 2 * COORDINATE_SIZE
DEFAULT_USER_ID = b"1234567812345678"
MAX_USER_ID_LENGTH = 8191  # ENTL is a 16-bit count of bits

_CURVE_BYTES = b"".join(value.to_bytes(COORDINATE_SIZE, "big") for value in (A, B, GX, GY))


def is_on_curve(x: int, y: int) -> bool:
    if not (0 <= x < P and 0 <= y < P):
        return False
    return (y * y - (x * x * x + A * x + B)) % P == 0


def _decompress(prefix: int, x: int) -> int:
    if x >= P:
        raise KeyFormatError("SM2 公钥不在曲线上", "x coordinate out of range")
    rhs = (x * x * x + A * x + B) % P
    y = pow(rhs, (P + 1) // 4, P)  # P = 3 (mod 4)
    if y * y % P != rhs:
        raise KeyFormatError("SM2 公钥不在曲线上", "no point with this x coordinate")
    if y & 1 != prefix & 1:
        y = P - y
    return y


def normalize_point(encoded: bytes) -> bytes:
    """Validate an encoded point (04||x||y, or compressed 02/03||x) and return it as 04||x||y."""
    if len(encoded) == POINT_SIZE and encoded[0] == 0x04:
        x = int.from_bytes(encoded[1 : 1 + COORDINATE_SIZE], "big")
        y = int.from_bytes(encoded[1 + COORDINATE_SIZE :], "big")
        if not is_on_curve(x, y):
            raise KeyFormatError("SM2 公钥不在曲线上", "point (x, y) does not satisfy the curve equation")
        return bytes(encoded)
    if len(encoded) == 1 + COORDINATE_SIZE and encoded[0] in (0x02, 0x03):
        x = int.from_bytes(encoded[1:], "big")
        y = _decompress(encoded[0], x)
        return b"\x04" + x.to_bytes(COORDINATE_SIZE, "big") + y.to_bytes(COORDINATE_SIZE, "big")
    raise KeyFormatError("SM2 公钥编码无效", f"unsupported point encoding of {len(encoded)} bytes")


def check_scalar(value: int) -> int:
    """A private key d must lie in [1, n-2] (GB/T 32918.1 §6.1)."""
    if not 1 <= value <= N - 2:
        raise KeyFormatError("SM2 私钥超出取值范围", "private scalar must be in [1, n-2]")
    return value


def check_user_id(user_id: bytes | bytearray) -> bytes:
    if not isinstance(user_id, bytes | bytearray):
        raise ParameterError("SM2 用户标识必须是字节串", f"user_id must be bytes, got {type(user_id).__name__}")
    if not 1 <= len(user_id) <= MAX_USER_ID_LENGTH:
        raise ParameterError("SM2 用户标识长度无效", f"user_id must be 1..{MAX_USER_ID_LENGTH} bytes")
    return bytes(user_id)


def compute_z(point: bytes, user_id: bytes = DEFAULT_USER_ID) -> bytes:
    """Z_A = SM3(ENTL_A || ID_A || a || b || x_G || y_G || x_A || y_A) for a normalized point 04||x||y."""
    user_id = check_user_id(user_id)
    entl = (8 * len(user_id)).to_bytes(2, "big")
    return sm3(entl + user_id + _CURVE_BYTES + point[1:])

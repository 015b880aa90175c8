"""The micro-benchmark returns numbers; how large they are is recorded in docs/crypto.md, not asserted."""

from __future__ import annotations

from tongban.crypto.bench import measure


def test_measure_returns_positive_rates() -> None:
    result = measure(seconds=0.01)
    assert set(result["sm2"]) == {"gmalglib", "gmalg"}
    for rates in [*result["sm2"].values(), result["sm2_gmalglib_library"]]:
        assert rates["sign_per_s"] > 0 and rates["verify_per_s"] > 0
    for name in ("sm3_mb_per_s", "hmac_sm3_mb_per_s", "sm4_gcm_encrypt_mb_per_s", "sm4_gcm_decrypt_mb_per_s"):
        assert result[name] > 0

"""Hub-issued tokens: SM2 signed by the hub, claims, audience, expiry on the injected clock, tampering and
revocation."""

from __future__ import annotations

import base64
import datetime as dt
import json

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from tongban import crypto
from tongban.errors import DomainError
from tongban.exchange import trust
from tongban.identity.tokens import PREFIX, forget_verified, issue_token, read_claims, revoke_tokens, verify_token

pytestmark = pytest.mark.django_db


def refused(token: str) -> DomainError:
    with pytest.raises(DomainError) as caught:
        verify_token(token)
    assert caught.value.status in (401, 403)
    return caught.value


def test_token_names_the_account_and_the_hub(fixed_clock, make_account, settings) -> None:
    account = make_account("zhangtao")
    issued = issue_token(account)
    claims = read_claims(issued.token)
    assert claims["sub"] == "zhangtao"
    assert claims["iss"] == "000000"
    assert claims["iat"] == int(fixed_clock.now().timestamp())
    assert claims["exp"] - claims["iat"] == settings.TONGBAN_TOKEN_TTL_SECONDS
    assert claims["ver"] == account.token_version
    assert claims["aud"] == ["*"]
    assert claims["kid"] == trust.usable_signing_key("000000")
    assert len(claims["jti"]) == 32
    assert issued.expires_at == fixed_clock.now() + dt.timedelta(seconds=settings.TONGBAN_TOKEN_TTL_SECONDS)
    assert verify_token(issued.token) == account


def test_every_token_is_unique(make_account) -> None:
    account = make_account("zhangtao")
    assert issue_token(account).token != issue_token(account).token


def test_expiry_follows_the_injected_clock(fixed_clock, make_account, settings) -> None:
    account = make_account("zhangtao")
    token = issue_token(account).token
    fixed_clock.advance(seconds=settings.TONGBAN_TOKEN_TTL_SECONDS - 1)
    assert verify_token(token) == account
    fixed_clock.advance(seconds=1)
    assert refused(token).code == "token_expired"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _signed(claims: dict, key: crypto.SM2PrivateKey) -> str:
    body = _b64(json.dumps(claims).encode())
    return f"{body}.{_b64(crypto.sign(key, PREFIX + body.encode()))}"


def test_the_signature_is_sm2_by_the_hub_key_over_the_claims(make_account) -> None:
    token = issue_token(make_account("zhangtao")).token
    body, signature = token.split(".")
    entry = trust.current_entries()[read_claims(token)["kid"]]
    public = crypto.load_public_key_pem(entry["public_key"])
    assert entry["node"] == "000000"
    padded = signature + "=" * (-len(signature) % 4)
    assert crypto.verify(public, PREFIX + body.encode(), base64.urlsafe_b64decode(padded))


@pytest.mark.parametrize("where", ["payload", "signature"])
def test_tampered_token_is_invalid(make_account, where: str) -> None:
    token = issue_token(make_account("zhangtao")).token
    payload, signature = token.rsplit(".", 1)
    if where == "payload":
        claims = read_claims(token)
        forged = _b64(json.dumps({**claims, "sub": "admin"}).encode())
        token = f"{forged}.{signature}"
    else:
        token = f"{payload}.{signature[:-4]}AAAA"
    forget_verified()
    assert refused(token).code == "token_invalid"


@hypothesis_settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(position=st.integers(min_value=0), replacement=st.characters(whitelist_categories=("Lu", "Ll", "Nd")))
def test_changing_any_character_invalidates_the_token(make_account, position: int, replacement: str) -> None:
    account = make_account("zhangtao") if not hasattr(make_account, "made") else make_account.made
    make_account.made = account
    token = issue_token(account).token
    index = position % len(token)
    if token[index] == replacement or token[index] == ".":
        return
    changed = token[:index] + replacement + token[index + 1 :]
    with pytest.raises(DomainError) as caught:
        verify_token(changed)
    assert caught.value.code == "token_invalid"


@pytest.mark.parametrize("token", ["", "garbage", "a.b.c", "Bearer x", "e30.e30", "." * 5000])
def test_garbage_is_invalid(db, token: str) -> None:
    assert refused(token).code == "token_invalid"


def test_token_signed_with_another_key_is_invalid(make_account, fixed_clock) -> None:
    account = make_account("zhangtao")
    claims = read_claims(issue_token(account).token)
    assert refused(_signed(claims, crypto.generate_keypair())).code == "token_invalid"


def test_token_signed_by_a_node_key_is_invalid(make_account, fixed_clock) -> None:
    account = make_account("zhangtao")
    claims = read_claims(issue_token(account).token)
    key_id, key = trust.signing_key("370000")
    assert refused(_signed({**claims, "kid": key_id}, key)).code == "token_invalid"


def test_token_from_another_issuer_is_invalid(make_account) -> None:
    account = make_account("zhangtao")
    claims = read_claims(issue_token(account).token)
    _key_id, key = trust.signing_key("000000")
    assert refused(_signed({**claims, "iss": "370000"}, key)).code == "token_invalid"


def test_a_revoked_hub_key_invalidates_its_tokens(make_account) -> None:
    account = make_account("zhangtao")
    token = issue_token(account).token
    old = read_claims(token)["kid"]
    trust.create_key("000000")  # the hub signs with its new key from now on
    trust.revoke(old)
    trust.invalidate()
    forget_verified()
    assert refused(token).code == "token_invalid"
    assert verify_token(issue_token(account).token) == account


def test_a_token_for_some_nodes_is_refused_at_others(make_account) -> None:
    account = make_account("zhangtao")
    token = issue_token(account, ["330000", "370000"]).token
    assert verify_token(token, "370000") == account
    error = refused_at(token, "630000")
    assert (error.code, error.status) == ("token_wrong_audience", 403)


def refused_at(token: str, node: str) -> DomainError:
    with pytest.raises(DomainError) as caught:
        verify_token(token, node)
    return caught.value


def test_token_for_a_deleted_account_is_invalid(make_account) -> None:
    account = make_account("zhangtao")
    token = issue_token(account).token
    account.delete()
    assert refused(token).code == "token_invalid"


def test_changing_the_password_revokes_outstanding_tokens(make_account) -> None:
    account = make_account("zhangtao")
    token = issue_token(account).token
    account.set_password("a-new-password-2026")
    account.save()
    assert refused(token).code == "token_revoked"
    assert verify_token(issue_token(account).token) == account


def test_saving_other_fields_does_not_revoke(make_account) -> None:
    account = make_account("zhangtao")
    token = issue_token(account).token
    account.phone = "13900000000"
    account.save()
    assert verify_token(token) == account


def test_password_rehash_on_login_does_not_revoke(make_account, settings) -> None:
    account = make_account("zhangtao")
    token = issue_token(account).token
    # A hasher upgrade rewrites the stored hash during check_password; the password itself is unchanged.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher", *settings.PASSWORD_HASHERS]
    assert account.check_password("correct-horse-battery")
    account.refresh_from_db()
    assert account.password.startswith("pbkdf2_sha256$")
    assert verify_token(token) == account


def test_revoke_tokens_logs_out_everywhere(make_account) -> None:
    account = make_account("zhangtao")
    first, second = issue_token(account).token, issue_token(account).token
    revoke_tokens(account)
    assert refused(first).code == "token_revoked"
    assert refused(second).code == "token_revoked"


def test_disabled_account_is_refused(make_account) -> None:
    account = make_account("zhangtao")
    token = issue_token(account).token
    account.is_active = False
    account.save()
    error = refused(token)
    assert (error.code, error.status) == ("account_disabled", 403)

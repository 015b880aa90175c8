"""Hub-issued tokens: claims, expiry on the injected clock, tampering and revocation."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import signing
from django.test import override_settings

from tongban.errors import DomainError
from tongban.identity.tokens import SALT, issue_token, read_claims, revoke_tokens, verify_token

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


@pytest.mark.parametrize("where", ["payload", "signature"])
def test_tampered_token_is_invalid(make_account, where: str) -> None:
    token = issue_token(make_account("zhangtao")).token
    payload, signature = token.rsplit(".", 1)
    if where == "payload":
        forged = signing.b64_encode(b'{"sub":"admin","iss":"000000","exp":9999999999,"ver":0,"jti":"x"}').decode()
        token = f"{forged}.{signature}"
    else:
        token = f"{payload}.{signature[:-2]}AA"
    assert refused(token).code == "token_invalid"


@pytest.mark.parametrize("token", ["", "garbage", "a.b.c", "Bearer x"])
def test_garbage_is_invalid(db, token: str) -> None:
    assert refused(token).code == "token_invalid"


def test_token_signed_with_another_key_is_invalid(make_account) -> None:
    account = make_account("zhangtao")
    with override_settings(TONGBAN_TOKEN_KEY="a-different-key"):
        foreign = issue_token(account).token
    assert refused(foreign).code == "token_invalid"


def test_token_from_another_issuer_is_invalid(make_account, settings) -> None:
    claims = {"sub": "zhangtao", "iss": "370000", "iat": 0, "exp": 9999999999, "jti": "x", "ver": 1}
    make_account("zhangtao")
    forged = signing.Signer(key=settings.TONGBAN_TOKEN_KEY, salt=SALT, sep=".").sign_object(claims)
    assert refused(forged).code == "token_invalid"


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

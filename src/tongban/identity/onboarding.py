"""Self-registration of citizens (and, in the same request, of their unit) and real-name verification.

A self-registered account is L1 基本实名: the ID number passed GB 11643 and the person declared
their name and mobile number, nothing more. Higher levels come from a verification that someone
answers for — today a window clerk who saw the ID card (L4 窗口现场核验).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from tongban import clock
from tongban.audit import log as audit
from tongban.errors import Conflict, DomainError, Forbidden, NotFound
from tongban.identity import enterprises as enterprise_service
from tongban.identity import facts
from tongban.identity.actors import Actor, actor_for_account
from tongban.identity.models import (
    METHOD_LEVELS,
    Account,
    Enterprise,
    RealNameLevel,
    RealNameVerification,
    StaffRole,
    VerificationMethod,
)
from tongban.identity.validators import validate_citizen_id

# Starts with a letter: generated staff usernames start with a node code, so they can never be taken.
USERNAME_PATTERN = re.compile(r"[A-Za-z][A-Za-z0-9_.-]{3,31}")
NAME_MAX_LENGTH = 64
# Mainland mobile numbers: 11 digits starting 13–19 (the MIIT numbering plan).
PHONE_PATTERN = re.compile(r"1[3-9][0-9]{9}")
NAME_PUNCTUATION = frozenset("·・•. -")
# Django's validators by error code; its own zh-hans catalogue misses some of their current wording.
PASSWORD_MESSAGES = {
    "password_too_short": "密码太短，至少需要 {min_length} 个字符。",
    "password_too_common": "密码过于常见，请换一个不易猜到的密码。",
    "password_entirely_numeric": "密码不能全部是数字。",
    "password_too_similar": "密码与{verbose_name}过于相似。",
}


@dataclass(frozen=True)
class NewAccount:
    username: str
    name: str
    id_number: str
    phone: str
    password: str


@dataclass(frozen=True)
class UnitRegistration:
    credit_code: str
    name: str
    domicile: str
    legal_representative: str = ""
    legal_representative_id_number: str = ""


def _audit_node() -> str:
    return settings.TONGBAN_NODE or settings.TONGBAN_HUB_NODE


def clean_username(value: str) -> str:
    username = value.strip()
    if not USERNAME_PATTERN.fullmatch(username):
        raise DomainError(
            "invalid_username", "用户名须以英文字母开头，由 4–32 位英文字母、数字、下划线、点或连字符组成。"
        )
    return username


def clean_name(value: str) -> str:
    name = unicodedata.normalize("NFC", value).strip()
    if not name:
        raise DomainError("invalid_name", "请填写姓名。")
    if len(name) > NAME_MAX_LENGTH:
        raise DomainError("invalid_name", f"姓名不能超过 {NAME_MAX_LENGTH} 个字符。")
    for ch in name:
        if ch not in NAME_PUNCTUATION and unicodedata.category(ch)[0] not in "LM":
            raise DomainError("invalid_name", f"姓名中的“{ch}”无效：只能使用文字、间隔号（·）和空格。")
    return name


def clean_phone(value: str) -> str:
    """A mainland mobile number, without spaces, hyphens or the +86 prefix."""
    phone = re.sub(r"[\s-]", "", value)
    for prefix in ("+86", "0086"):
        if phone.startswith(prefix):
            phone = phone[len(prefix) :]
    if not PHONE_PATTERN.fullmatch(phone):
        raise DomainError("invalid_phone", "手机号码应为 11 位中国大陆手机号码（以 13–19 开头）。")
    return phone


def clean_password(password: str, *, username: str, name: str) -> None:
    try:
        validate_password(password, user=Account(username=username, display_name=name))
    except ValidationError as error:
        raise DomainError("weak_password", "".join(_password_message(e) for e in error.error_list)) from None


def _password_message(error: ValidationError) -> str:
    template = PASSWORD_MESSAGES.get(error.code or "")
    if template is None:
        return "".join(error.messages)
    return template.format(**{key: str(value) for key, value in (error.params or {}).items()})


def _username_taken() -> Conflict:
    return Conflict("username_taken", "该用户名已被使用，请换一个。")


def _id_number_registered() -> Conflict:
    # Saying so is unavoidable (one person, one account); the answer names no account.
    return Conflict("id_number_registered", "该公民身份号码已注册账号；如忘记用户名或密码，请到政务服务窗口办理。")


@transaction.atomic
def register_account(new: NewAccount, unit: UnitRegistration | None = None) -> Account:
    """Create an L1 account (and, when given, the unit it registers as its first agent).

    Every field is checked before anything is looked up or written, so a conflict answer needs a
    complete, valid request; any error leaves nothing behind.
    """
    username = clean_username(new.username)
    name = clean_name(new.name)
    id_number = validate_citizen_id(new.id_number)
    phone = clean_phone(new.phone)
    clean_password(new.password, username=username, name=name)
    if unit is not None:
        enterprise_service.check_fields(
            credit_code=unit.credit_code,
            name=unit.name,
            domicile_code=unit.domicile,
            legal_representative=unit.legal_representative,
            legal_representative_id_number=unit.legal_representative_id_number,
        )
    if Account.objects.filter(username__iexact=username).exists():
        raise _username_taken()
    if Account.objects.filter(id_number=id_number).exists():
        raise _id_number_registered()
    try:
        with transaction.atomic():
            account = Account.objects.create_user(
                username=username,
                password=new.password,
                display_name=name,
                id_number=id_number,
                phone=phone,
                real_name_level=RealNameLevel.BASIC,
                date_joined=clock.now(),
            )
    except IntegrityError:  # a concurrent registration won the race
        if Account.objects.filter(username__iexact=username).exists():
            raise _username_taken() from None
        raise _id_number_registered() from None
    audit.record(
        "tongban.account.registered",
        node=_audit_node(),
        object_type="account",
        object_id=str(account.pk),
        actor=account.username,
        data={"real_name_level": account.real_name_level, "with_enterprise": unit is not None},
    )
    if unit is not None:
        register_unit(account, unit)
    return account


def register_unit(account: Account, unit: UnitRegistration) -> Enterprise:
    return enterprise_service.register_enterprise(
        actor_for_account(account, None),
        credit_code=unit.credit_code,
        name=unit.name,
        domicile_code=unit.domicile,
        legal_representative=unit.legal_representative,
        legal_representative_id_number=unit.legal_representative_id_number,
    )


@transaction.atomic
def verify_real_name(actor: Actor, username: str, *, method: str, id_number: str, name: str) -> RealNameVerification:
    """Record that the person holding `username` proved their identity; raise the level, never lower it."""
    binding = next(iter(actor.bindings_with_role(StaffRole.WINDOW_CLERK)), None)
    if binding is None or actor.account is None:
        raise Forbidden("window_clerk_required", "只有在本节点任窗口收件员的工作人员可以进行窗口实名核验。")
    level = METHOD_LEVELS[VerificationMethod(method)]
    account = Account.objects.select_for_update().filter(username=username, is_active=True).first()
    if account is None:
        raise NotFound("account_not_found", f"账号“{username}”不存在或已停用。")
    if account.pk == actor.account.pk:
        raise Forbidden("not_authorized", "不能为本人进行实名核验。")
    number = validate_citizen_id(id_number)
    if not (account.id_number or account.id_number_hash):
        raise DomainError("identity_mismatch", "该账号未登记公民身份号码，不能核验。", status=422)
    if not account.has_id_number(number):
        raise DomainError("identity_mismatch", "证件上的公民身份号码与账号登记的不一致。", status=422)
    # A replica given only the number's keyed hash has no name to compare; the hub compares the number.
    if account.display_name and unicodedata.normalize("NFC", name).strip() != account.display_name:
        raise DomainError("identity_mismatch", "证件上的姓名与账号登记的不一致。", status=422)
    before = account.real_name_level
    account.real_name_level = max(before, level)
    account.save(update_fields=["real_name_level"])
    verification = RealNameVerification.objects.create(
        account=account,
        method=method,
        level_before=before,
        level=account.real_name_level,
        verified_by=actor.account,
        node_id=binding.node_id,
        department=binding.department,
        verified_at=clock.now(),
    )
    audit.record(
        "tongban.account.real_name_verified",
        node=binding.node_id,
        object_type="account",
        object_id=str(account.pk),
        actor=actor.username,
        role=binding.role,
        data={"method": method, "level_before": before, "level": account.real_name_level},
    )
    facts.report_verification(verification, number)  # the hub keeps the level for every node
    return verification

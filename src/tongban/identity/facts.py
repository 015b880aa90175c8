"""One identity across separate nodes: the account facts a node needs, signed by the hub.

The hub keeps every account. A node keeps a replica of each account that has acted there, built from
the hub's signed `account.facts`:

- **pulled** the first time a hub token for the account reaches the node (or when the replica is older
  than TONGBAN_ACCOUNT_FACTS_MAX_AGE_SECONDS, or the token is newer than it): the node signs an
  `account.facts_request` carrying the token and posts it to the hub; the hub checks both signatures
  and the token's audience, records the replica and answers `account.facts` for that node — with the
  person's name and ID number, since they are about to act there;
- **pushed** by the hub, as signed messages through the outbox, to every node holding a replica, each
  time the facts change (logout or password change raise the token version, a disabled account, the
  real-name level, staff posts, enterprise agencies and approvals) — without the name or number.

Facts are minimal: the username, token version, active flag, real-name level, HMAC-SM3 of the ID
number, the staff posts *at the receiving node* and the enterprises the person acts for (credit code,
name, status). Never the phone or the password.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import urllib.error
import urllib.request
import uuid
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q

from tongban import clock
from tongban.errors import DomainError, Forbidden, Unauthorized
from tongban.exchange import outbox, trust
from tongban.exchange.envelope import SCHEMA_VERSION, Envelope
from tongban.exchange.handlers import handles
from tongban.identity.models import Account, AccountReplica, Enterprise, EnterpriseAgent, StaffBinding
from tongban.regions.models import Department, Region

FACTS = "account.facts"
FACTS_REQUEST = "account.facts_request"
VERIFIED = "account.verified"
PATH = "/api/v1/hub/account-facts"
REQUEST_WINDOW = dt.timedelta(minutes=5)  # a facts request older or newer than this is refused
RETRY_AFTER_SECONDS = 5

log = logging.getLogger(__name__)


def hub() -> str:
    return settings.TONGBAN_HUB_NODE


def at_the_hub_of_a_federation() -> bool:
    """This process is the hub of separate nodes (the embedded default holds every account itself)."""
    return hub() == settings.TONGBAN_NODE


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(clock.CHINA_TZ).isoformat()


# ---------------------------------------------------------------- at the hub: the facts


def _binding_fact(binding: StaffBinding) -> dict[str, Any]:
    department = binding.department
    return {
        "region": binding.region_id,
        "department": None if department is None else {"region": department.region_id, "function": department.function},
        "role": binding.role,
        "is_cross_province_window": binding.is_cross_province_window,
        "active": binding.active,
    }


def _enterprise_fact(agency: EnterpriseAgent) -> dict[str, Any]:
    enterprise = agency.enterprise
    return {
        "credit_code": enterprise.credit_code,
        "name": enterprise.name,
        "applicant_type": enterprise.applicant_type,
        "domicile": enterprise.domicile_id,
        "status": enterprise.status,
        "agent_active": agency.active,
    }


def facts_for(account: Account, node: str, *, with_person: bool) -> dict[str, Any]:
    """What `node` needs about `account`, as the hub knows it now."""
    from tongban.licences.directory import holder_key

    bindings = StaffBinding.objects.filter(account=account, node_id=node).select_related("department")
    agencies = EnterpriseAgent.objects.filter(account=account).select_related("enterprise")
    return {
        "username": account.username,
        "facts_at": _iso(clock.now()),
        "token_version": account.token_version,
        "active": account.is_active,
        "real_name_level": account.real_name_level,
        "id_number_hash": holder_key(account.id_number) if account.id_number else "",
        "person": (
            {"name": account.display_name, "id_number": account.id_number}
            if with_person and account.id_number
            else None
        ),
        "staff_bindings": [_binding_fact(b) for b in bindings.order_by("id")],
        "enterprises": [_enterprise_fact(a) for a in agencies.order_by("enterprise__credit_code")],
    }


def announce(account: Account) -> None:
    """Send the account's new facts to every node holding a replica, in the caller's transaction."""
    if not at_the_hub_of_a_federation() or account.pk is None:
        return
    nodes = list(AccountReplica.objects.filter(account=account).values_list("node", flat=True).order_by("node"))
    if not nodes:
        return
    with transaction.atomic():
        for node in nodes:
            outbox.send(FACTS, from_node=hub(), to_node=node, payload=facts_for(account, node, with_person=False))


def announce_enterprise(enterprise: Enterprise) -> None:
    for agency in EnterpriseAgent.objects.filter(enterprise=enterprise).select_related("account"):
        announce(agency.account)


def _refuse(code: str, detail: str, status: int = 403) -> DomainError:
    return DomainError(code, detail, status=status)


def answer_request(body: Any) -> dict[str, Any]:
    """The hub's answer to a node's signed facts request: the signed facts for that node."""
    from tongban.identity.tokens import check_audience, read_claims

    if not at_the_hub_of_a_federation() and settings.TONGBAN_NODE:
        raise _refuse("not_the_hub", "只有国家平台答复账号信息请求。", 421)
    try:
        envelope = Envelope.from_dict(body)
    except (ValueError, TypeError, KeyError, AttributeError):
        raise _refuse("invalid_facts_request", "账号信息请求不是合法的签名消息。", 400) from None
    asked = envelope.payload
    by_token = isinstance(asked.get("token"), str)
    by_window = all(isinstance(asked.get(k), str) for k in ("username", "id_number_hash", "clerk"))
    if envelope.type != FACTS_REQUEST or by_token == by_window:
        raise _refuse("invalid_facts_request", "账号信息请求的类型或内容不正确。", 400)
    refusal = trust.verify_envelope(envelope, hub())
    if refusal is not None:
        raise _refuse(refusal.code, f"账号信息请求未通过核验：{refusal.detail}")
    if abs(clock.now() - envelope.created_at) > REQUEST_WINDOW:
        raise _refuse("replayed", "账号信息请求的时间超出允许的范围（疑似重放）。")
    if by_window:
        return _answer_window(envelope)
    claims = read_claims(asked["token"])
    check_audience(claims, envelope.from_node)
    account = Account.objects.filter(username=claims["sub"]).first()
    if account is None:
        raise Unauthorized("token_invalid", "访问令牌无效，请重新登录。")
    # The person's name and number go only to a node they are acting at with a token still valid.
    in_force = claims["ver"] == account.token_version and account.is_active
    return _answer(envelope, account, with_person=in_force)


def _answer(envelope: Envelope, account: Account, *, with_person: bool) -> dict[str, Any]:
    """Record that the asking node now holds a replica (so it hears of changes) and sign its facts."""
    now = clock.now()
    with transaction.atomic():
        replica, created = AccountReplica.objects.get_or_create(
            account=account, node=envelope.from_node, defaults={"first_pulled_at": now, "last_pulled_at": now}
        )
        if not created:
            AccountReplica.objects.filter(pk=replica.pk).update(last_pulled_at=now)
    payload = facts_for(account, envelope.from_node, with_person=with_person)
    answer = _envelope(FACTS, hub(), envelope.from_node, payload, correlation_id=envelope.message_id)
    return trust.sign_envelope(answer).to_dict()


def _answer_window(envelope: Envelope) -> dict[str, Any]:
    """A window clerk of the asking node links a walk-in applicant's case to their account: the clerk
    must hold that post at that node, and the account's ID number must be the one on the card the
    clerk checked. The answer carries no name or number (the window has them from the card)."""
    from tongban.licences.directory import holder_key

    asked = envelope.payload
    clerk_posted = StaffBinding.objects.filter(
        account__username=asked["clerk"], node_id=envelope.from_node, role="window_clerk", active=True
    ).exists()
    if not clerk_posted:
        raise _refuse("window_clerk_required", "请求节点的这名工作人员不是该节点的窗口收件员。")
    account = Account.objects.filter(username=asked["username"], is_active=True).first()
    if account is None or not account.id_number or holder_key(account.id_number) != asked["id_number_hash"]:
        raise DomainError(
            "applicant_account_mismatch", "所填账号与申请人身份证件号码不一致，不能将办件关联到该账号。", status=422
        )
    return _answer(envelope, account, with_person=False)


def _envelope(
    type: str, from_node: str, to_node: str, payload: dict[str, Any], *, correlation_id: uuid.UUID | None = None
) -> Envelope:
    message_id = uuid.uuid4()
    return Envelope(
        type=type,
        from_node=from_node,
        to_node=to_node,
        payload=payload,
        created_at=clock.now(),
        message_id=message_id,
        correlation_id=correlation_id or message_id,
        schema_version=SCHEMA_VERSION,
    )


@handles(VERIFIED)
def on_verified(envelope: Envelope) -> None:
    """At the hub: a window of a node verified a person's identity in person; raise the level."""
    from tongban.audit import log as audit
    from tongban.identity.models import RealNameVerification
    from tongban.licences.directory import holder_key
    from tongban.regions.models import Node

    fact = envelope.payload
    account = Account.objects.select_for_update().filter(username=fact["username"]).first()
    if account is None or not account.id_number or holder_key(account.id_number) != fact["id_number_hash"]:
        log.warning("verification from %s names no matching account", envelope.from_node)
        return
    clerk = Account.objects.filter(username=fact["verified_by"]).first()
    before = account.real_name_level
    account.real_name_level = max(before, int(fact["level"]))
    account.save(update_fields=["real_name_level"])
    if clerk is not None:
        RealNameVerification.objects.create(
            account=account,
            method=fact["method"],
            level_before=before,
            level=account.real_name_level,
            verified_by=clerk,
            node=Node.objects.get(code=envelope.from_node),
            verified_at=dt.datetime.fromisoformat(fact["verified_at"]),
        )
    audit.record(
        "tongban.account.real_name_verified",
        node=hub(),
        object_type="account",
        object_id=str(account.pk),
        actor=fact["verified_by"],
        data={
            "method": fact["method"],
            "level_before": before,
            "level": account.real_name_level,
            "at_node": envelope.from_node,
        },
    )


# ---------------------------------------------------------------- at a node: the replica


def _hub_unreachable() -> DomainError:
    return DomainError(
        "hub_unreachable",
        "暂时无法向国家平台核实账号信息，请稍后重试。",
        status=503,
        retry_after=RETRY_AFTER_SECONDS,
    )


def _is_fresh(account: Account, claims: dict[str, Any]) -> bool:
    if account.facts_at is None or claims["ver"] > account.token_version:
        return False
    if account.id_number_hash and not account.id_number:
        return False  # built for a window: the person's own token brings their name and number
    age = clock.now() - account.facts_at
    return age <= dt.timedelta(seconds=settings.TONGBAN_ACCOUNT_FACTS_MAX_AGE_SECONDS)


def replica_for(token: str, claims: dict[str, Any]) -> Account:
    """The node's replica of the account the (verified) token names, brought up to date if needed."""
    account = Account.objects.filter(username=claims["sub"]).first()
    if account is not None and not account.is_replica:
        # A node's own account (its administrator, say) is never reached with a hub token.
        raise Unauthorized("token_invalid", "访问令牌无效：该用户名是本节点的本地账号。")
    if account is not None and _is_fresh(account, claims):
        return account
    try:
        pull(token)
    except DomainError as error:
        if error.code != "hub_unreachable" or account is None:
            raise
        # The hub is down: a replica within twice its age limit still serves; an older one does not.
        stale_for = clock.now() - (account.facts_at or clock.now())
        if stale_for > dt.timedelta(seconds=2 * settings.TONGBAN_ACCOUNT_FACTS_MAX_AGE_SECONDS):
            raise
        return account
    return Account.objects.get(username=claims["sub"])


def pull(token: str) -> None:
    """Ask the hub for the facts of the token's account, signed by this node; apply the answer."""
    _ask_the_hub({"token": token})


def pull_for_window(username: str, id_number: str, clerk: str) -> Account:
    """At a node: the replica of a walk-in applicant's account, confirmed by the hub for this window."""
    from tongban.licences.directory import holder_key

    _ask_the_hub({"username": username, "id_number_hash": holder_key(id_number), "clerk": clerk})
    return Account.objects.get(username=username)


def _ask_the_hub(question: dict[str, str]) -> None:
    node = settings.TONGBAN_NODE
    if not settings.TONGBAN_HUB_URL:
        raise _hub_unreachable()
    asked = trust.sign_envelope(_envelope(FACTS_REQUEST, node, hub(), question))
    request = urllib.request.Request(
        settings.TONGBAN_HUB_URL.rstrip("/") + PATH,
        data=json.dumps(asked.to_dict(), ensure_ascii=False).encode(),
        headers={"Content-Type": "application/json", "Accept": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            answer = json.loads(response.read())
    except urllib.error.HTTPError as error:
        _raise_hub_refusal(error)
    except (OSError, ValueError):
        log.warning("account facts from %s unavailable", settings.TONGBAN_HUB_URL)
        raise _hub_unreachable() from None
    try:
        envelope = Envelope.from_dict(answer)
    except (ValueError, TypeError, KeyError, AttributeError):
        raise _hub_unreachable() from None
    refusal = trust.verify_envelope(envelope, node)
    if refusal is not None or envelope.type != FACTS or envelope.from_node != hub():
        log.warning("account facts answer refused: %s", refusal.code if refusal else envelope.type)
        raise _hub_unreachable()
    _apply_answer(envelope.payload)


def _apply_answer(payload: dict[str, Any]) -> None:
    # Two first requests of one person at once both ask; the second to write finds the row the first
    # made (a unique violation) and applies again over it.
    for attempt in range(2):
        try:
            with transaction.atomic():
                apply_facts(payload)
            return
        except IntegrityError:
            if attempt:
                raise


def _raise_hub_refusal(error: urllib.error.HTTPError) -> None:
    try:
        problem = json.loads(error.read())
        code, detail = problem["code"], problem["detail"]
    except (ValueError, KeyError, TypeError):
        raise _hub_unreachable() from None
    if error.code == 401 and code in ("token_invalid", "token_expired"):
        raise Unauthorized(code, detail) from None
    if error.code == 403 and code == "token_wrong_audience":
        raise Forbidden(code, detail) from None
    if error.code == 422 and code == "applicant_account_mismatch":
        raise DomainError(code, detail, status=422) from None
    log.warning("the hub refused this node's facts request: %s %s", error.code, code)
    raise _hub_unreachable() from None


@handles(FACTS)
def on_facts(envelope: Envelope) -> None:
    if envelope.from_node != hub():
        log.warning("account facts from %s, not the hub, ignored", envelope.from_node)
        return
    apply_facts(envelope.payload)


def apply_facts(fact: dict[str, Any]) -> Account | None:
    """Make this node's replica what the facts say (unless it already holds newer ones)."""
    node = settings.TONGBAN_NODE
    facts_at = dt.datetime.fromisoformat(fact["facts_at"])
    account = Account.objects.select_for_update().filter(username=fact["username"]).first()
    if account is not None and not account.is_replica:
        log.warning("account facts for a local account of this node ignored")
        return None
    if account is not None and account.facts_at is not None and account.facts_at > facts_at:
        return account  # a late push after a newer pull
    if account is None:
        account = Account(username=fact["username"], home_node=hub())
        account.set_unusable_password()  # a replica has no password: people log in at the hub
    account.token_version = fact["token_version"]
    account.is_active = fact["active"]
    account.real_name_level = fact["real_name_level"]
    account.id_number_hash = fact["id_number_hash"]
    account.facts_at = facts_at
    person = fact.get("person")
    if person:
        account.display_name, account.id_number = person["name"], person["id_number"]
    account.save()
    _apply_bindings(account, node, fact["staff_bindings"])
    _apply_enterprises(account, fact["enterprises"])
    return account


def _department(fact: dict[str, Any] | None) -> Department | None:
    """The node's own row for the department the hub names (a county department the rules provide for
    is made on first use here, as it was at the hub)."""
    from tongban.regions.queries import department_for

    if fact is None:
        return None
    try:
        department = department_for(fact["region"], fact["function"])
    except (DomainError, LookupError, ValueError):
        return None
    return department if department.region_id == fact["region"] else None


def _apply_bindings(account: Account, node: str, facts: list[dict[str, Any]]) -> None:
    kept: list[int] = []
    for fact in facts:
        department = _department(fact["department"])
        if fact["department"] is not None and department is None:
            log.warning("a staff post names a department this node does not have")
            continue
        region = Region.objects.filter(code=fact["region"]).first() if fact["region"] else None
        binding, _ = StaffBinding.objects.update_or_create(
            account=account,
            node_id=node,
            department=department,
            role=fact["role"],
            defaults={
                "region": region,
                "is_cross_province_window": fact["is_cross_province_window"],
                "active": fact["active"],
            },
        )
        kept.append(binding.pk)
    StaffBinding.objects.filter(account=account, node_id=node).exclude(pk__in=kept).update(active=False)


def _apply_enterprises(account: Account, facts: list[dict[str, Any]]) -> None:
    listed: list[str] = []
    for fact in facts:
        domicile = Region.objects.filter(code=fact["domicile"]).first() if fact["domicile"] else None
        enterprise, _ = Enterprise.objects.update_or_create(
            credit_code=fact["credit_code"],
            defaults={
                "name": fact["name"],
                "applicant_type": fact["applicant_type"],
                "domicile": domicile,
                "status": fact["status"],
            },
        )
        EnterpriseAgent.objects.update_or_create(
            enterprise=enterprise, account=account, defaults={"active": fact["agent_active"]}
        )
        listed.append(fact["credit_code"])
    EnterpriseAgent.objects.filter(Q(account=account) & ~Q(enterprise__credit_code__in=listed)).update(active=False)


def report_verification(verification: Any, id_number: str) -> None:
    """At a node: tell the hub that its window verified a replica's holder in person."""
    from tongban.licences.directory import holder_key

    account = verification.account
    if not account.is_replica:
        return
    outbox.send(
        VERIFIED,
        from_node=settings.TONGBAN_NODE,
        to_node=hub(),
        payload={
            "username": account.username,
            "id_number_hash": holder_key(id_number),
            "method": verification.method,
            "level": verification.level,
            "verified_by": verification.verified_by.username,
            "verified_at": _iso(verification.verified_at),
        },
    )

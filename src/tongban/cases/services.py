"""Write paths for cases. Each public `do_*` function is one transaction: it locks the case, checks
the actor and the lifecycle, appends the action, re-derives the cached fields, writes the audit
entry and the outgoing messages — all committed together or not at all."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from tongban import clock
from tongban.audit.log import record as audit
from tongban.cases import blobs
from tongban.cases.applicants import Identity, check_form_identity
from tongban.cases.derive import ActionRecord, derive
from tongban.cases.lifecycle import ACTION_LABELS, ACTION_RULES, APPLICANT
from tongban.cases.models import Case, CaseAction, CaseMaterial, CaseParty
from tongban.cases.numbering import next_case_no
from tongban.cases.policy import Acting, authorize, is_applicant
from tongban.cases.refs import department_ref, legs_out
from tongban.cases.reporting import report_to_hub
from tongban.catalog.models import ItemVersion, Material
from tongban.catalog.services import (
    leg_regions,
    missing_materials,
    owner_region,
    resolve_item_version,
    validate_form,
)
from tongban.errors import Conflict, DomainError, Forbidden
from tongban.exchange import outbox
from tongban.identity.actors import Actor
from tongban.identity.validators import mask_id_number, validate_citizen_id, validate_credit_code
from tongban.regions.models import Department, Region
from tongban.regions.queries import department_for, node_for_region
from tongban.rules.eligibility import check_eligibility
from tongban.serve.metrics import ACTIONS

REMEDY_NOTICE = "申请人如对本决定不服，可以自收到决定之日起六十日内依法申请行政复议，或者六个月内依法提起行政诉讼。"
SPECIAL_PROCEDURE_KINDS = ("听证", "招标", "拍卖", "检验", "检测", "检疫", "鉴定", "专家评审")
DELIVERY_METHODS = {"online": "网上送达", "mail": "邮寄送达", "window": "窗口领取"}
RECEIPT_RELATIONS = ("本人", "经办人", "委托代领人")
MAX_EXTENSION_WORKING_DAYS = 15
MAX_TEXT = 2000  # reasons and legal bases travel to every participating node: keep them to a page


@dataclass
class ApplicantInput:
    """Who applies, as verified at a window (异地代收代办) — online applicants are their own account."""

    name: str
    id_number: str
    identity_verified: bool = False
    username: str = ""


@dataclass
class ActionOutcome:
    case: Case
    performed: bool  # False: sent to the node that holds the case
    action: CaseAction | None = None
    requested_at_node: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


# ---------------------------------------------------------------- creating a case (草稿)


def create_case(
    actor: Actor,
    *,
    item_code: str,
    mode: str,
    form: dict[str, Any],
    facts: dict[str, str] | None = None,
    applicant: ApplicantInput | None = None,
    enterprise_credit_code: str = "",
) -> Case:
    node = _require_node(actor)
    today = clock.today()
    with transaction.atomic():
        version = resolve_item_version(item_code, node, today, mode)
        who, identity = _who_applies(actor, version, mode, applicant, enterprise_credit_code)
        cleaned = validate_form(version, form)
        parties = check_form_identity(version, cleaned, identity)
        if version.establishes_enterprise and version.establishment_kind != "branch":
            who["enterprise_name"] = _establishment_name(version, cleaned)
        # The checked form wins; extra facts may only add jurisdiction regions the form does not carry.
        all_facts = {**_checked_facts(facts or {}), **cleaned}
        window_department = _window_department(actor) if mode == "proxy" else None
        region = owner_region(version, all_facts)
        # The rules in force today decide whether it can be done here, and where it is owned (the
        # registration office for marriage, for instance); the trace is kept with the case.
        answer = check_eligibility(item_code, node, today, all_facts, mode)
        region = (answer.get("owner") or {}).get("region") or region
        owner_department = department_for(region, version.item.department_function)
        legs = _legs_plan(version, all_facts) if mode == "multi_place" else []
        owner_node = node_for_region(region).code
        participants = list(dict.fromkeys([node, owner_node, *[leg["node"] for leg in legs]]))
        case = Case.objects.create(
            node=node,
            case_no=next_case_no(node, today),
            item=version.item,
            item_version=version,
            rules_date=today,
            mode=mode,
            submitted_node=node,
            submitted_department=window_department,
            submitted_by=actor.username,
            owner_node=owner_node,
            owner_department=owner_department,
            processing_node=node,
            processing_department=window_department or owner_department,
            delivery_node=node if mode == "proxy" else owner_node,
            participants=participants,
            form_data=cleaned,
            facts={k: v for k, v in all_facts.items() if k.endswith("_region")},
            rules_trace=answer["trace"],
            status="draft",
            legs_state=legs,
            **who,
        )
        departments = {owner_department.pk, *[leg["department_id"] for leg in legs]}
        if window_department:
            departments.add(window_department.pk)
        case.handler_departments.set(departments)
        CaseParty.objects.bulk_create(
            CaseParty(case=case, label=p.label, name=p.name, id_number=p.id_number) for p in parties
        )
        refresh(case)
        audit(
            "tongban.case.drafted",
            node=node,
            object_type="case",
            object_id=case.case_no,
            actor=actor.username,
            role="window_clerk" if mode == "proxy" else APPLICANT,
            data={"item": version.item_id, "version": version.version, "mode": mode},
        )
    return case


def _checked_facts(facts: dict[str, Any]) -> dict[str, str]:
    errors = []
    for key, value in facts.items():
        if not key.endswith("_region"):
            errors.append({"field": key, "code": "unknown_fact", "message": f"未知的管辖事实：{key}"})
        elif not isinstance(value, str) or not Region.objects.filter(code=value).exists():
            errors.append({"field": key, "code": "unknown_region", "message": f"行政区划代码 {value} 不存在。"})
    if errors:
        raise DomainError("invalid_facts", "管辖事实有误，请检查后重新提交。", status=422, errors=errors)
    return dict(facts)


def _require_node(actor: Actor) -> str:
    if not actor.node:
        raise DomainError("node_required", "请指明办理节点：在请求头 X-Tongban-Node 中填写受理地的节点编码。")
    return actor.node


def _who_applies(
    actor: Actor, version: ItemVersion, mode: str, applicant: ApplicantInput | None, credit_code: str
) -> tuple[dict[str, str], Identity]:
    """The applicant fields of the case, and the identity the form must name."""
    # An establishment (设立登记) is applied for by a person: the enterprise comes into being on approval.
    # A branch is the exception: its company applies, and the branch comes into being on approval.
    by_a_person = version.establishes_enterprise and version.establishment_kind != "branch"
    for_enterprise = version.item.applicant_type != "1" and not by_a_person
    if by_a_person and credit_code.strip():
        raise DomainError(
            "establishment_has_no_credit_code",
            "设立登记由拟设立企业的法定代表人或经办人以个人名义申请，统一社会信用代码在核准时赋予，申请时不填写。",
            status=422,
        )
    if mode == "proxy":
        return _verified_at_window(actor, applicant, credit_code, for_enterprise)
    if actor.account is None:
        raise Forbidden("applicant_required", "请以申请人本人账号登录后申请。")
    if for_enterprise:
        enterprise = next((e for e in actor.enterprises if e.credit_code == credit_code), None)
        if enterprise is None:
            raise Forbidden(
                "enterprise_not_authorized",
                "您不是该企业已审核通过的经办人，或企业尚未通过审核，不能以该企业名义申请。",
            )
        who = {
            "applicant_username": actor.username,
            "applicant_name": enterprise.name,
            "applicant_id_number": actor.account.id_number,
            "enterprise_credit_code": enterprise.credit_code,
            "enterprise_name": enterprise.name,
            "agent_username": actor.username,
        }
        identity = Identity(actor.name, actor.account.id_number, enterprise.name, enterprise.credit_code, True)
        return who, identity
    if not actor.account.id_number or actor.account.real_name_level < 1:
        raise Forbidden("real_name_required", "请先完成实名认证再申请办理。")
    who = {
        "applicant_username": actor.username,
        "applicant_name": actor.name,
        "applicant_id_number": actor.account.id_number,
    }
    return who, Identity(actor.name, actor.account.id_number)


def _verified_at_window(
    actor: Actor, applicant: ApplicantInput | None, credit_code: str, for_enterprise: bool
) -> tuple[dict[str, str], Identity]:
    if not any(b.role == "window_clerk" for b in actor.bindings):
        raise Forbidden("window_clerk_required", "窗口收件须由收件人员在窗口提交。")
    if applicant is None:
        raise DomainError("applicant_required", "请填写申请人（或经办人）的姓名和身份证件号码。", status=422)
    if not applicant.identity_verified:
        raise DomainError("identity_not_verified", "窗口须先核验申请人身份，再提交办件。", status=422)
    id_number = validate_citizen_id(applicant.id_number)
    _check_applicant_account(applicant.username, id_number, actor.username)
    name = applicant.name.strip()
    who = {"applicant_username": applicant.username, "applicant_name": name, "applicant_id_number": id_number}
    if not for_enterprise:
        return who, Identity(name, id_number)
    enterprise = _registered_enterprise(validate_credit_code(credit_code))
    who.update(
        enterprise_credit_code=enterprise.credit_code,
        enterprise_name=enterprise.name,
        agent_username=applicant.username,
    )
    return who, Identity(name, id_number, enterprise.name, enterprise.credit_code, True)


def _registered_enterprise(credit_code: str):
    from tongban.identity.models import Enterprise

    enterprise = Enterprise.objects.filter(credit_code=credit_code).first()
    if enterprise is None:
        raise DomainError(
            "enterprise_not_registered",
            f"统一社会信用代码为 {credit_code} 的企业尚未在平台登记；设立登记请以个人名义申请。",
            status=422,
        )
    return enterprise


def _check_applicant_account(username: str, id_number: str, clerk: str) -> None:
    """A window may link the case to the applicant's own account only: same ID number on both.

    At a provincial node of a federation the hub keeps the accounts: it confirms the pair for this
    window, and the node keeps the replica it answers with."""
    if not username:
        return
    from tongban.identity import facts
    from tongban.identity.models import Account
    from tongban.identity.tokens import issues_tokens

    account = Account.objects.filter(username=username).first()
    if not issues_tokens() and (account is None or account.is_replica):
        account = facts.pull_for_window(username, id_number, clerk)
    if account is None or not account.is_active or not account.has_id_number(id_number):
        raise DomainError(
            "applicant_account_mismatch", "所填账号与申请人身份证件号码不一致，不能将办件关联到该账号。", status=422
        )


def _establishment_name(version: ItemVersion, form: dict[str, Any]) -> str:
    """The name of the enterprise an establishment will create, from its bound form field."""
    for spec in version.form_fields:
        if spec.get("binds") == "enterprise_name" and form.get(spec["name"]):
            return str(form[spec["name"]])[:128]
    return ""


def _window_department(actor: Actor) -> Department:
    for binding in actor.bindings:
        if binding.role == "window_clerk" and binding.department is not None:
            return binding.department
    raise Forbidden("window_clerk_required", "异地代收代办须由跨省通办窗口的收件人员在窗口提交。")


def _legs_plan(version: ItemVersion, facts: dict[str, Any]) -> list[dict[str, Any]]:
    plan = []
    for leg, region in leg_regions(version, facts):
        department = department_for(region, leg.department_function)
        plan.append(
            {
                "order": leg.order,
                "name": leg.name,
                "place": leg.place,
                "region": region,
                "node": node_for_region(region).code,
                "department_id": department.pk,
                "department": department.name,
                "limit": leg.limit,
            }
        )
    return plan


# ---------------------------------------------------------------- materials


def add_material(actor: Actor, case: Case, *, material_code: str, filename: str, data: bytes) -> CaseMaterial:
    """Attach a material to a draft. Supplements after a 补正 notice go through `do_supplement`."""
    material = _material_of(case.item_version, material_code)
    content_type = blobs.check_upload(data, filename)
    with transaction.atomic():
        case = lock_case(case)
        if case.status != "draft":
            raise Conflict("case_not_draft", "办件已提交，不能再直接上传材料；补正材料请通过补正接口提交。")
        if not (is_applicant(actor, case) or case.submitted_by == actor.username):
            raise Forbidden("not_case_applicant", "只有申请人或收件人员可以为草稿上传材料。")
        stored = blobs.store(data, content_type)
        row = CaseMaterial.objects.create(
            case=case,
            material_code=material.code,
            sha256=stored.sha256,
            size=stored.size,
            content_type=content_type,
            filename=filename[:255],
            uploaded_at=clock.now(),
            uploaded_by=actor.username,
        )
        audit(
            "tongban.case.material_added",
            node=case.node,
            object_type="case",
            object_id=case.case_no,
            actor=actor.username,
            data={"material": material.code, "sha256": stored.sha256, "size": stored.size},
        )
    return row


def _material_of(version: ItemVersion, code: str) -> Material:
    material = version.materials.filter(code=code).first()
    if material is None:
        raise DomainError("material_unknown", f"该事项没有编码为 {code} 的申请材料。", status=422)
    return material


def provided_codes(case: Case) -> set[str]:
    """Materials uploaded, and those an electronic licence stands in for with its holders' consent."""
    from tongban.licences.uses import accepted_materials

    return set(case.materials.values_list("material_code", flat=True)) | accepted_materials(case)


# ---------------------------------------------------------------- actions


def do_action(
    actor: Actor, case: Case, action: str, *, reason: str = "", data: dict[str, Any] | None = None
) -> ActionOutcome:
    data = dict(data or {})
    if action == "complete_correction":
        raise DomainError(
            "use_supplements", "补正材料请通过 /cases/{case_no}/supplements 提交，齐全后自动视为补正完成。", status=422
        )
    with transaction.atomic():
        case = lock_case(case)
        acting = authorize(actor, case, action)
        data = validate_action_data(case, action, reason, data)
        if ACTION_RULES[action].where == "applicant" and case.processing_node != case.node:
            return _request_at_holder(case, acting, action, reason, data)
        if action in DECISIONS and data.get("outcome") == "approve":
            _approve(case, acting, data)
        row = append_action(case, acting, action, reason, data)
    return ActionOutcome(case=case, performed=True, action=row)


DECISIONS = ("decide", "decide_on_the_spot")


def _approve(case: Case, acting: Acting, data: dict[str, Any]) -> None:
    """What an approval brings into being with it, in the decision's transaction: the enterprise of a
    设立登记, and the licence the item issues (电子证照)."""
    from tongban.licences.issuing import issue_for_decision

    if case.item_version.establishes_enterprise:
        data["established"] = _establish_enterprise(case, acting)
    licences = issue_for_decision(
        case, actor=acting.username, department_id=acting.department_id, established=data.get("established")
    )
    if licences:
        data["licences"] = licences


CREDIT_CODE_ATTEMPTS = 20


def _establish_enterprise(case: Case, acting: Acting) -> dict[str, str]:
    """设立登记核准: the enterprise (个体工商户, 分支机构) comes into being with a credit code, approved by
    this decision.

    Written in the decision's transaction: a decision without its enterprise cannot commit."""
    from tongban.identity.enterprises import establish_enterprise
    from tongban.identity.models import Account, Enterprise
    from tongban.identity.validators import make_credit_code

    established = _established(case)
    agent = Account.objects.filter(username=case.agent_username or case.applicant_username, is_active=True).first()
    registrar_region = case.owner_department.region_id
    organisation_type = ORGANISATION_TYPES[case.item_version.establishment_kind]
    prefix = "9" + organisation_type + registrar_region
    serial = Enterprise.objects.filter(credit_code__startswith=prefix).count()
    for attempt in range(CREDIT_CODE_ATTEMPTS):
        code = make_credit_code(registrar_region, serial + attempt, organisation_type=organisation_type)
        try:
            enterprise = establish_enterprise(
                credit_code=code,
                **established,
                agent=agent,
                decided_by=acting.username,
                node=case.node,
                case_no=case.case_no,
            )
        except Conflict:
            continue  # another registration took this serial first
        return {"credit_code": enterprise.credit_code, "name": enterprise.name}
    raise Conflict("credit_code_unavailable", "暂时无法赋予统一社会信用代码，请稍后重新作出决定。")


# The 机构类别 (second character of the credit code, GB 32100) of what a 市场监管 registration establishes.
ORGANISATION_TYPES = {"enterprise": "1", "branch": "1", "individual_business": "2"}


def _established(case: Case) -> dict[str, str]:
    """Name, domicile and representative of what the approval establishes, from the case's form: a
    个体工商户 without a 字号 goes by its operator's name, its operator stands for it; a branch is named
    by its own field and represented by its head (负责人)."""
    fields = {f.get("binds"): case.form_data.get(f["name"], "") for f in case.item_version.form_fields}
    domicile = case.form_data.get("domicile_region") or case.owner_department.region_id
    if case.item_version.establishment_kind == "branch":
        name = str(fields.get("established_name", ""))
    else:
        name = case.enterprise_name or str(fields.get("enterprise_name", ""))
    representative = str(fields.get("legal_representative", ""))
    if case.item_version.establishment_kind == "individual_business":
        name = name or case.applicant_name
        representative = representative or case.applicant_name
    return {"name": name, "domicile_code": str(domicile), "legal_representative": representative}


def do_supplement(actor: Actor, case: Case, files: list[tuple[str, str, bytes]]) -> ActionOutcome:
    """Submit the materials a 补正 notice asked for; when all are in, the case counts as accepted."""
    checked = [(code, name, raw, blobs.check_upload(raw, name)) for code, name, raw in files]
    with transaction.atomic():
        case = lock_case(case)
        acting = authorize(actor, case, "complete_correction")
        check_supplement_covers_notice(case, {code for code, *_ in checked})
        materials = []
        for code, name, raw, content_type in checked:
            stored = blobs.store(raw, content_type)
            materials.append(
                {
                    "code": code,
                    "filename": name[:255],
                    "sha256": stored.sha256,
                    "size": stored.size,
                    "content_type": content_type,
                }
            )
        data = {"materials": materials}
        if case.processing_node != case.node:
            return _request_at_holder(case, acting, "complete_correction", "", data)
        row = append_action(case, acting, "complete_correction", "", data)
    return ActionOutcome(case=case, performed=True, action=row)


def check_supplement_covers_notice(case: Case, given: set[str]) -> None:
    """Supplements must answer the one-time notice exactly: nothing it did not ask for, nothing left out."""
    asked = set(_correction_codes(case))
    unknown = given - asked
    if unknown:
        raise DomainError(
            "supplement_not_requested", f"以下材料不在补正告知书中：{'、'.join(sorted(unknown))}。", status=422
        )
    still_missing = sorted(asked - given)
    if still_missing:
        raise DomainError(
            "supplement_incomplete",
            f"补正材料不齐全，还缺少：{'、'.join(_material_names(case, still_missing))}。",
            status=422,
            missing=still_missing,
        )


def _correction_codes(case: Case) -> list[str]:
    notice = case.actions.filter(name="request_correction").order_by("-seq").first()
    return [m["code"] for m in notice.data.get("missing", [])] if notice else []


def _material_names(case: Case, codes: list[str]) -> list[str]:
    names = dict(case.item_version.materials.values_list("code", "name"))
    return [names.get(code, code) for code in codes]


def lock_case(case: Case) -> Case:
    # of=("self",): lock the case row only, not the catalog rows joined in (PostgreSQL would lock both).
    return Case.objects.select_for_update(of=("self",)).select_related("item", "item_version").get(pk=case.pk)


def append_action(case: Case, acting: Acting, action: str, reason: str, data: dict[str, Any]) -> CaseAction:
    row = CaseAction.objects.create(
        case=case,
        seq=case.action_count + 1,
        action_id=uuid.uuid4(),
        name=action,
        at=clock.now(),
        actor=acting.username,
        actor_name=acting.name,
        role=acting.role,
        node=acting.node,
        department_id_ref=acting.department_id,
        reason=reason,
        data=data,
    )
    store_action_materials(case, row)
    refresh(case)
    audit(
        f"tongban.case.{action}",
        node=case.node,
        object_type="case",
        object_id=case.case_no,
        actor=acting.username,
        role=acting.role,
        data={"seq": row.seq, "status": case.status, "reason": reason},
    )
    _replicate(case, row)
    report_to_hub(case, row.name)
    transaction.on_commit(lambda: ACTIONS.labels(action).inc())
    return row


def store_action_materials(case: Case, row: CaseAction) -> None:
    save_materials(
        case, row.data.get("materials", []), at=row.at, by=row.actor, supplement=row.name == "complete_correction"
    )


def save_materials(
    case: Case, materials: list[dict[str, Any]], *, at: dt.datetime, by: str, supplement: bool = False
) -> None:
    """Material rows from their metadata (an action's data or a replicated snapshot)."""
    CaseMaterial.objects.bulk_create(
        CaseMaterial(
            case=case,
            material_code=m["code"],
            sha256=m["sha256"],
            size=m["size"],
            content_type=m["content_type"],
            filename=m["filename"],
            uploaded_at=dt.datetime.fromisoformat(m["uploaded_at"]) if "uploaded_at" in m else at,
            uploaded_by=m.get("uploaded_by", by),
            supplement=m.get("supplement", supplement),
        )
        for m in materials
    )


def _replicate(case: Case, row: CaseAction) -> None:
    """Tell every other node that keeps this case about the new action (内部流转、办结反馈)."""
    others = [node for node in case.participants if node != case.node]
    if not others or case.received_at is None:
        return  # a draft never left the node where it was opened
    if row.name == "submit":
        snapshot = case_snapshot(case)
        for node in others:
            outbox.send(
                "case.created",
                from_node=case.node,
                to_node=node,
                case_no=case.case_no,
                payload=snapshot,
                user=row.actor,
                represented_party=represented_party(case),
            )
        return
    payload = {"case_no": case.case_no, "action": action_payload(row), "blobs": _blobs_of(row.data)}
    for node in others:
        outbox.send(
            "case.action",
            from_node=case.node,
            to_node=node,
            case_no=case.case_no,
            payload=payload,
            user=row.actor,
            represented_party=represented_party(case),
        )


def represented_party(case: Case) -> str:
    """The party a window acts for (异地代收代办): the enterprise's credit code, or the applicant."""
    if case.mode != "proxy":
        return ""
    return case.enterprise_credit_code or case.applicant_name


def _blobs_of(data: dict[str, Any]) -> dict[str, str]:
    return {m["sha256"]: blobs.encode(m["sha256"]) for m in data.get("materials", [])}


def _request_at_holder(case: Case, acting: Acting, action: str, reason: str, data: dict[str, Any]) -> ActionOutcome:
    """An applicant acts where they stand; the node that holds the case performs the action."""
    outbox.send(
        "case.request",
        from_node=case.node,
        to_node=case.processing_node,
        case_no=case.case_no,
        user=acting.username,
        represented_party=represented_party(case),
        payload={
            "case_no": case.case_no,
            "action": action,
            "reason": reason,
            "data": data,
            "actor": {
                "username": acting.username,
                "name": acting.name,
                "role": acting.role,
                "node": acting.node,
                "department": department_ref(acting.department_id),
                # Checked here: the actor is an approved agent of the applying enterprise.
                "enterprise_credit_code": case.enterprise_credit_code if acting.role == APPLICANT else "",
            },
            "hops": 0,
            "blobs": _blobs_of(data),
        },
    )
    audit(
        f"tongban.case.{action}_requested",
        node=case.node,
        object_type="case",
        object_id=case.case_no,
        actor=acting.username,
        role=acting.role,
        data={"holder": case.processing_node},
    )
    return ActionOutcome(case=case, performed=False, requested_at_node=case.processing_node)


# ---------------------------------------------------------------- action data


def validate_action_data(case: Case, action: str, reason: str, data: dict[str, Any]) -> dict[str, Any]:
    if len(reason) > MAX_TEXT:
        raise DomainError("reason_too_long", f"理由不得超过 {MAX_TEXT} 个字符。", status=422)
    if ACTION_RULES[action].needs_reason and not reason.strip():
        raise DomainError("reason_required", f"“{ACTION_LABELS[action]}”须填写理由。", status=422)
    validator = _DATA_VALIDATORS.get(action)
    return validator(case, reason, data) if validator else {}


def _submit_data(case: Case, reason: str, data: dict[str, Any]) -> dict[str, Any]:
    # The rules that count are those in force on the day of submission, where it is submitted.
    today = clock.today()
    version = resolve_item_version(case.item_id, case.submitted_node, today, case.mode)
    if version.pk != case.item_version_id:
        raise Conflict(
            "item_version_changed",
            f"该事项的办理要求已于 {version.valid_from:%Y-%m-%d} 更新，请按新要求重新填写申请。",
        )
    # The rules evaluated again on the day that counts; the trace kept is that day's.
    answer = check_eligibility(case.item_id, case.submitted_node, today, {**case.facts, **case.form_data}, case.mode)
    case.rules_date, case.rules_trace = today, answer["trace"]
    case.save(update_fields=["rules_date", "rules_trace"])
    # A material an electronic licence can stand in for is provided by the holders' consent (用证授权),
    # or uploaded if they prefer; the answer says which way each missing one can come.
    missing = missing_materials(case.item_version, case.form_data, provided_codes(case))
    if missing:
        raise DomainError(
            "materials_missing",
            f"缺少必要的申请材料：{'、'.join(m.name for m in missing)}。",
            status=422,
            missing=[_missing_entry(case, m) for m in missing],
        )
    return {}


def _missing_entry(case: Case, material: Material) -> dict[str, str]:
    entry = {"code": material.code, "name": material.name, "licence_type": material.licence_type}
    if material.licence_type:
        entry["how"] = "licence_use"
        entry["path"] = f"/api/v1/cases/{case.case_no}/licence-uses"
        entry["note"] = "将通过共享获取：可授权使用电子证照代替，也可上传材料。"
    else:
        entry["how"] = "upload"
    return entry


def _check_form_data(case: Case, reason: str, data: dict[str, Any]) -> dict[str, Any]:
    if not data.get("identity_verified") or not data.get("form_complete"):
        raise DomainError(
            "form_check_incomplete",
            "形式审查须确认已核验申请人身份（identity_verified）且材料形式齐全（form_complete）。",
            status=422,
        )
    return {"identity_verified": True, "form_complete": True}


def _waybill(data: dict[str, Any], *, required: bool) -> dict[str, str] | None:
    waybill = data.get("waybill")
    if not waybill:
        if required:
            raise DomainError("waybill_required", "须填写寄递信息：承运单位和运单号。", status=422)
        return None
    if (
        not isinstance(waybill, dict)
        or not str(waybill.get("carrier", "")).strip()
        or not str(waybill.get("number", "")).strip()
    ):
        raise DomainError("waybill_invalid", "寄递信息须包含承运单位（carrier）和运单号（number）。", status=422)
    return {"carrier": str(waybill["carrier"])[:64], "number": str(waybill["number"])[:64]}


def _forward_data(case: Case, reason: str, data: dict[str, Any]) -> dict[str, Any]:
    needs_paper = case.item_version.materials.filter(form="original").exists()
    waybill = _waybill(data, required=needs_paper)
    return {"waybill": waybill} if waybill else {}


def _correction_data(case: Case, reason: str, data: dict[str, Any]) -> dict[str, Any]:
    # Only one notice: the lifecycle allows request_correction only before acceptance, once.
    names = dict(case.item_version.materials.values_list("code", "name"))
    entries = data.get("missing", [])
    if not isinstance(entries, list):
        raise DomainError("correction_list_invalid", "补正材料清单须为列表：材料编码或 {code, note}。", status=422)
    listed: dict[str, str] = {}
    for entry in entries:
        code = entry.get("code") if isinstance(entry, dict) else entry
        if not isinstance(code, str) or code not in names:
            raise DomainError("material_unknown", f"该事项没有编码为 {code} 的申请材料。", status=422)
        listed[code] = str(entry.get("note", ""))[:200] if isinstance(entry, dict) else ""
    # One-time notice: every required material not yet provided is listed, whether named or not.
    for material in missing_materials(case.item_version, case.form_data, provided_codes(case)):
        listed.setdefault(material.code, "未提交")
    if not listed:
        raise DomainError("correction_list_empty", "补正告知须列明需要补正的全部材料。", status=422)
    return {"missing": [{"code": c, "name": names[c], "note": n} for c, n in listed.items()]}


def _refuse_data(case: Case, reason: str, data: dict[str, Any]) -> dict[str, Any]:
    return {"legal_basis": str(data.get("legal_basis", ""))[:MAX_TEXT], "remedy": REMEDY_NOTICE}


def _leg_data(case: Case, reason: str, data: dict[str, Any]) -> dict[str, Any]:
    index = case.current_leg or 0
    if index + 1 >= len(case.legs_state):
        raise Conflict("last_leg_use_decide", "这是最后一个联办环节，请直接作出办结决定。")
    documents = data.get("documents", [])
    if not isinstance(documents, list) or not all(isinstance(d, str) for d in documents):
        raise DomainError("documents_invalid", "环节文书须为文书名称的列表。", status=422)
    return {"leg": index, "documents": [d[:128] for d in documents[:20]]}


def _extension_data(case: Case, reason: str, data: dict[str, Any]) -> dict[str, Any]:
    days = data.get("working_days", 10)
    if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= MAX_EXTENSION_WORKING_DAYS:
        raise DomainError("extension_invalid", f"延长期限须为 1 至 {MAX_EXTENSION_WORKING_DAYS} 个工作日。", status=422)
    if case.actions.filter(name="request_extension").exists():
        raise Conflict("extension_already_requested", "本办件已申请过延长办理期限。")
    return {"working_days": days}


def _approve_extension_data(case: Case, reason: str, data: dict[str, Any]) -> dict[str, Any]:
    requested = case.actions.filter(name="request_extension").exists()
    approved = case.actions.filter(name="approve_extension").exists()
    if not requested or approved:
        raise Conflict("no_extension_pending", "没有待批准的延期申请。")
    return {}


def _special_data(case: Case, reason: str, data: dict[str, Any]) -> dict[str, Any]:
    kind = data.get("kind")
    if not isinstance(kind, str) or kind not in SPECIAL_PROCEDURE_KINDS:
        raise DomainError(
            "special_kind_invalid", f"特别程序种类须为：{'、'.join(SPECIAL_PROCEDURE_KINDS)}。", status=422
        )
    notice = f"因需{kind}，依据《中华人民共和国行政许可法》第四十五条，所需时间不计算在办理期限内。"
    return {"kind": kind, "notice_to_applicant": notice}


def _decide_data(case: Case, reason: str, data: dict[str, Any]) -> dict[str, Any]:
    outcome = data.get("outcome")
    if not isinstance(outcome, str) or outcome not in ("approve", "deny"):
        raise DomainError("outcome_invalid", "办理结果须为 approve（准予）或 deny（不予）。", status=422)
    if case.mode == "multi_place" and case.current_leg is not None and case.current_leg + 1 < len(case.legs_state):
        raise Conflict("legs_not_complete", "联办环节尚未全部完成，不能办结。")
    if outcome == "deny":
        if not reason.strip() or not str(data.get("legal_basis", "")).strip():
            raise DomainError("reasons_required", "不予许可须说明理由和法律依据。", status=422)
        return {
            "outcome": outcome,
            "rules_date": case.rules_date.isoformat(),
            "rules_trace": case.rules_trace,
            "legal_basis": str(data["legal_basis"])[:MAX_TEXT],
            "remedy": REMEDY_NOTICE,
        }
    result = data.get("result") or {}
    return {
        "outcome": outcome,
        # The decision freezes the rules it was taken under: item version, rule versions, parameters.
        "rules_date": case.rules_date.isoformat(),
        "rules_trace": case.rules_trace,
        "legal_basis": str(data.get("legal_basis", ""))[:MAX_TEXT],
        "result": {str(k)[:32]: str(v)[:128] for k, v in list(result.items())[:10]} if isinstance(result, dict) else {},
    }


def _on_the_spot_data(case: Case, reason: str, data: dict[str, Any]) -> dict[str, Any]:
    if not case.item_version.is_immediate:
        raise Conflict("not_immediate_item", "该事项不是即办件，须先受理、审查，再作出决定。")
    return _decide_data(case, reason, data)


def _send_to_window_data(case: Case, reason: str, data: dict[str, Any]) -> dict[str, Any]:
    # The paper result (or a refusal's written decision) may travel by post: its waybill is optional.
    waybill = _waybill(data, required=False)
    return {"waybill": waybill} if waybill else {}


def _deliver_data(case: Case, reason: str, data: dict[str, Any]) -> dict[str, Any]:
    method = data.get("method")
    if not isinstance(method, str) or method not in DELIVERY_METHODS:
        raise DomainError("delivery_method_invalid", "送达方式须为 online、mail 或 window。", status=422)
    if case.status == "sent_to_window":
        if method != "window":
            raise DomainError(
                "delivery_method_invalid", "结果已寄送受理窗口，只能在窗口当面送达（window）。", status=422
            )
        return {"method": method, "receipt": _receipt(data)}
    if method == "window" and case.flow == "proxy":
        raise Conflict(
            "window_handover_required",
            "窗口领取的结果须先寄送受理窗口（send_to_window），由受理窗口当面交付并登记送达回证。",
        )
    delivered: dict[str, Any] = {"method": method}
    if method == "mail":
        delivered["waybill"] = _waybill(data, required=True)
    if method == "window":
        delivered["receipt"] = _receipt(data)
    return delivered


def _receipt(data: dict[str, Any]) -> dict[str, Any]:
    """送达回证: who collected the result, in what capacity, and that their ID was checked."""
    receipt = data.get("receipt")
    if not isinstance(receipt, dict):
        raise DomainError(
            "receipt_required", "窗口送达须登记送达回证：领取人（collected_by）、身份核验（id_checked）。", status=422
        )
    collected_by = str(receipt.get("collected_by", "")).strip()
    relation = str(receipt.get("relation", "本人")).strip()
    if not collected_by or receipt.get("id_checked") is not True:
        raise DomainError("receipt_invalid", "送达回证须写明领取人姓名，并确认已核验其身份证件。", status=422)
    if relation not in RECEIPT_RELATIONS:
        raise DomainError("receipt_invalid", f"领取人身份须为：{'、'.join(RECEIPT_RELATIONS)}。", status=422)
    return {"collected_by": collected_by[:64], "relation": relation, "id_checked": True}


def _withdraw_data(case: Case, reason: str, data: dict[str, Any]) -> dict[str, Any]:
    return {}


_DATA_VALIDATORS = {
    "submit": _submit_data,
    "check_form": _check_form_data,
    "forward": _forward_data,
    "request_correction": _correction_data,
    "refuse": _refuse_data,
    "complete_leg": _leg_data,
    "request_extension": _extension_data,
    "approve_extension": _approve_extension_data,
    "start_special": _special_data,
    "decide": _decide_data,
    "decide_on_the_spot": _on_the_spot_data,
    "send_to_window": _send_to_window_data,
    "deliver": _deliver_data,
    "withdraw": _withdraw_data,
}


# ---------------------------------------------------------------- derivation cache


def limits_of(version: ItemVersion) -> dict[str, Any]:
    return {
        "promised": version.promised_limit,
        "promised_unit": version.promised_limit_unit,
        "legal": version.legal_limit,
        "legal_unit": version.legal_limit_unit,
    }


def records_of(case: Case) -> list[ActionRecord]:
    return [
        ActionRecord(seq=a.seq, name=a.name, at=a.at, node=a.node, data=a.data)
        for a in case.actions.order_by("seq").only("seq", "name", "at", "node", "data")
    ]


def derive_case(case: Case, today: dt.date | None = None):
    return derive(
        mode=case.flow,
        actions=records_of(case),
        limits=limits_of(case.item_version),
        owner=(case.owner_node, case.owner_department_id),
        window=(case.submitted_node, case.submitted_department_id),
        legs_plan=[{k: v for k, v in leg.items() if k in _LEG_PLAN_KEYS} for leg in case.legs_state],
        today=today or clock.today(),
    )


_LEG_PLAN_KEYS = {"order", "name", "place", "region", "node", "department_id", "department", "limit"}
CACHED_FIELDS = (
    "status",
    "processing_node",
    "processing_department_id",
    "received_at",
    "owner_received_at",
    "accepted_at",
    "decided_at",
    "outcome",
    "acceptance_due",
    "promised_due",
    "legal_due",
    "due_provisional",
    "paused_working_days",
    "warning",
    "current_leg",
    "legs_state",
)


def refresh(case: Case, *, only_if_changed: bool = False) -> bool:
    """Re-derive the cached fields from the action log and save them; True if any changed.

    With only_if_changed (the periodic sweep over every open case), an unchanged case is not written."""
    derived = derive_case(case)
    values = {name: getattr(derived, name) for name in CACHED_FIELDS}
    values["processing_node"] = values["processing_node"] or case.node
    values["action_count"] = case.actions.count()
    changed = any(getattr(case, name) != value for name, value in values.items())
    for name, value in values.items():
        setattr(case, name, value)
    if changed or not only_if_changed:
        case.save(update_fields=list(values))
    return changed


# ---------------------------------------------------------------- messages


def action_payload(row: CaseAction) -> dict[str, Any]:
    return {
        "seq": row.seq,
        "action_id": str(row.action_id),
        "name": row.name,
        "at": row.at.isoformat(),
        "actor": row.actor,
        "actor_name": row.actor_name,
        "role": row.role,
        "node": row.node,
        "department": department_ref(row.department_id_ref),
        "reason": row.reason,
        "data": row.data,
    }


def travelling_uses(case: Case) -> list[dict[str, Any]]:
    from tongban.licences.uses import travelling_uses as uses

    return uses(case)


def case_snapshot(case: Case) -> dict[str, Any]:
    materials = list(case.materials.all())
    return {
        "case_no": case.case_no,
        "item": case.item_id,
        "item_version": case.item_version.version,
        "rules_date": case.rules_date.isoformat(),
        "mode": case.mode,
        "submitted_node": case.submitted_node,
        "submitted_department": department_ref(case.submitted_department_id),
        "submitted_by": case.submitted_by,
        "owner_node": case.owner_node,
        "owner_department": department_ref(case.owner_department_id),
        "delivery_node": case.delivery_node,
        "participants": case.participants,
        "handler_departments": [
            department_ref(pk) for pk in sorted(case.handler_departments.values_list("pk", flat=True))
        ],
        "applicant": {
            "username": case.applicant_username,
            "name": case.applicant_name,
            "id_number": case.applicant_id_number,
            "enterprise_credit_code": case.enterprise_credit_code,
            "enterprise_name": case.enterprise_name,
            "agent_username": case.agent_username,
        },
        "parties": [{"label": p.label, "name": p.name, "id_number": p.id_number} for p in case.parties.all()],
        "form_data": case.form_data,
        "facts": case.facts,
        "rules_trace": case.rules_trace,
        "legs": legs_out([{k: v for k, v in leg.items() if k in _LEG_PLAN_KEYS} for leg in case.legs_state]),
        "materials": [
            {
                "code": m.material_code,
                "filename": m.filename,
                "sha256": m.sha256,
                "size": m.size,
                "content_type": m.content_type,
                "uploaded_at": m.uploaded_at.isoformat(),
                "uploaded_by": m.uploaded_by,
                "supplement": m.supplement,
            }
            for m in materials
        ],
        "blobs": {m.sha256: blobs.encode(m.sha256) for m in materials},
        "licence_uses": travelling_uses(case),
        "actions": [action_payload(a) for a in case.actions.order_by("seq")],
    }


def masked_applicant_id(case: Case) -> str:
    return mask_id_number(case.applicant_id_number) if case.applicant_id_number else ""

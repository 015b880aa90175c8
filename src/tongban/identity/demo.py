"""Load demo accounts, staff posts and enterprises from content/demo/accounts.yaml.

Idempotent: the YAML is the truth for the accounts it names. Running again updates them, restores
their posts, and leaves the password (and so their outstanding tokens) alone if it is unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.db import transaction

from tongban import clock
from tongban.audit import log as audit
from tongban.errors import DomainError
from tongban.identity.models import Account, Enterprise, EnterpriseAgent, RealNameLevel, StaffBinding, StaffRole
from tongban.identity.validators import validate_citizen_id, validate_credit_code
from tongban.regions.models import Department, Node, Region


class DemoError(Exception):
    """The demo file is wrong, or the content it needs is not loaded; the message says which."""


@dataclass(frozen=True)
class DemoLogin:
    username: str
    name: str
    posts: tuple[str, ...]
    note: str


def default_path() -> Path:
    return Path(settings.CONTENT_DIR) / "demo" / "accounts.yaml"


def find_department(region_code: str, function: str) -> Department | None:
    """The department with this function serving the region (the regions app decides how)."""
    from tongban.regions.queries import department_for

    try:
        return department_for(region_code, function)
    except (ObjectDoesNotExist, DomainError, LookupError):
        return None


def _department_for_post(region: Region, functions: list[str], node: str, username: str) -> Department:
    # A county often has no department of its own for a function; the prefecture's serves it.
    for function in functions:
        current: Region | None = region
        while current is not None:
            department = find_department(current.code, function)
            if department is not None:
                if department.node_id != node:
                    raise DemoError(f"{username}：部门“{department.name}”不属于节点 {node}。")
                return department
            current = current.parent
    wanted = "/".join(functions)
    raise DemoError(
        f"{username}：区划 {region.code} 及其上级没有职能为 {wanted} 的部门；请先运行 tongban load_content。"
    )


def _region(code: Any, username: str) -> Region:
    region = Region.objects.filter(code=str(code)).first()
    if region is None:
        raise DemoError(f"{username}：区划 {code} 不存在；请先运行 tongban load_content。")
    return region


def _node(code: Any, username: str) -> Node:
    node = Node.objects.filter(code=str(code)).first()
    if node is None:
        raise DemoError(f"{username}：节点 {code} 不存在；请先运行 tongban load_content。")
    return node


def _upsert_account(entry: dict[str, Any], password: str) -> Account:
    username = str(entry["username"])
    id_number = str(entry.get("id_number") or "")
    try:
        id_number = validate_citizen_id(id_number) if id_number else ""
    except DomainError as error:
        raise DemoError(f"{username}：{error.detail}") from None
    level = int(entry.get("real_name_level", RealNameLevel.NONE))
    if level not in RealNameLevel.values:
        raise DemoError(f"{username}：实名等级 {level} 无效。")
    superuser = bool(entry.get("superuser", False))
    account, _ = Account.objects.update_or_create(
        username=username,
        defaults={
            "display_name": str(entry.get("name", "")),
            "id_number": id_number,
            "phone": str(entry.get("phone") or ""),
            "real_name_level": level,
            "is_active": True,
            "is_superuser": superuser,
            "is_staff": superuser,
        },
    )
    # Re-setting an unchanged password would revoke every token the demo user holds.
    if not account.has_usable_password() or not account.check_password(password):
        account.set_password(password)
        account.save()
    return account


def _sync_posts(account: Account, posts: list[dict[str, Any]]) -> list[str]:
    kept: list[int] = []
    labels: list[str] = []
    for post in posts:
        role = str(post["role"])
        if role not in StaffRole.values:
            raise DemoError(f"{account.username}：角色 {role} 无效。")
        node = _node(post["node"], account.username)
        region = _region(post["region"], account.username)
        functions = post.get("department") or []
        functions = [functions] if isinstance(functions, str) else [str(f) for f in functions]
        department = _department_for_post(region, functions, node.code, account.username) if functions else None
        binding, _ = StaffBinding.objects.update_or_create(
            account=account,
            node=node,
            department=department,
            role=role,
            defaults={
                "region": region,
                "is_cross_province_window": bool(post.get("cross_province_window", False)),
                "active": True,
            },
        )
        kept.append(binding.pk)
        window = "·跨省通办窗口" if binding.is_cross_province_window else ""
        labels.append(f"{node.code} {(department or region).name} {StaffRole(role).label}{window}")
    StaffBinding.objects.filter(account=account).exclude(pk__in=kept).update(active=False)
    return labels


def _upsert_enterprise(entry: dict[str, Any], accounts: dict[str, Account]) -> Enterprise:
    try:
        code = validate_credit_code(str(entry["credit_code"]))
    except DomainError as error:
        raise DemoError(f"{entry.get('name', '')}：{error.detail}") from None
    status = str(entry.get("status", Enterprise.Status.PENDING))
    if status not in Enterprise.Status.values:
        raise DemoError(f"{entry['name']}：审核状态 {status} 无效。")
    agents = [_account(accounts, str(username), entry["name"]) for username in entry.get("agents", [])]
    reviewer = _account(accounts, str(entry["reviewed_by"]), entry["name"]) if entry.get("reviewed_by") else None
    enterprise, _ = Enterprise.objects.update_or_create(
        credit_code=code,
        defaults={
            "name": str(entry["name"]),
            "domicile": _region(entry["domicile"], str(entry["name"])),
            "legal_representative": str(entry.get("legal_representative", "")),
            "status": status,
            "registered_by": agents[0] if agents else None,
        },
    )
    _record_review(enterprise, reviewer)
    for agent in agents:
        EnterpriseAgent.objects.update_or_create(enterprise=enterprise, account=agent, defaults={"active": True})
    return enterprise


def _record_review(enterprise: Enterprise, reviewer: Account | None) -> None:
    if enterprise.status == Enterprise.Status.PENDING:
        enterprise.reviewed_by, enterprise.reviewed_at, enterprise.review_note = None, None, ""
    elif enterprise.reviewed_at is None:
        enterprise.reviewed_by, enterprise.reviewed_at = reviewer, clock.now()
        approved = enterprise.status == Enterprise.Status.APPROVED
        enterprise.review_note = "演示数据：审核通过。" if approved else "演示数据：不予通过。"
    enterprise.save(update_fields=["reviewed_by", "reviewed_at", "review_note"])


def _account(accounts: dict[str, Account], username: str, owner: str) -> Account:
    if username not in accounts:
        raise DemoError(f"{owner}：账号 {username} 不在演示账号列表中。")
    return accounts[username]


def read_demo_file(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DemoError(f"找不到演示账号文件：{path}") from None
    if not isinstance(data, dict) or not data.get("password") or not isinstance(data.get("accounts"), list):
        raise DemoError(f"{path}：需要 password 和 accounts 两项。")
    return data


@transaction.atomic
def load_demo(path: Path | None = None) -> list[DemoLogin]:
    """Create or update every demo account, post and enterprise; return the logins for display."""
    data = read_demo_file(path or default_path())
    password = str(data["password"])
    accounts: dict[str, Account] = {}
    logins: list[DemoLogin] = []
    for entry in data["accounts"]:
        account = _upsert_account(entry, password)
        accounts[account.username] = account
        posts = _sync_posts(account, entry.get("posts") or [])
        if account.is_superuser:
            posts = ["平台超级管理员", *posts]
        logins.append(DemoLogin(account.username, account.display_name, tuple(posts), str(entry.get("note", ""))))
    enterprises = [_upsert_enterprise(entry, accounts) for entry in data.get("enterprises") or []]
    audit.record(
        "tongban.identity.demo_loaded",
        node=settings.TONGBAN_NODE or settings.TONGBAN_HUB_NODE,
        object_type="demo",
        object_id="accounts",
        actor="system",
        role="system",
        data={"accounts": len(accounts), "enterprises": len(enterprises)},
    )
    return logins

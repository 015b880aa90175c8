"""Load demo accounts, staff posts and enterprises from content/demo/accounts.yaml, and generate
staff for every department that owns an item in the catalog.

Idempotent: the YAML is the truth for the accounts it names, the catalog for the generated ones.
Running again updates them, restores their posts, and leaves the password (and so their outstanding
tokens) alone if it is unchanged. Every demo account shares one password hash, computed once: the
hasher is deliberately slow, and thousands of generated accounts must not pay for it each.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import yaml
from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.core.exceptions import ObjectDoesNotExist
from django.db import transaction

from tongban import clock
from tongban.audit import log as audit
from tongban.errors import DomainError
from tongban.identity.models import Account, Enterprise, EnterpriseAgent, RealNameLevel, StaffBinding, StaffRole
from tongban.identity.validators import validate_citizen_id, validate_credit_code
from tongban.regions.models import Department, Node, Region

# Generated usernames start with the node code, which a self-registered username never does.
STAFF_USERNAME = "{node}-{function}-{region}-{role}"
ADMINISTRATOR_USERNAME = "{node}-administrator"
GENERATED_PATTERN = r"^[0-9]{6}-"
GENERATED_ROLES = (StaffRole.REVIEWER, StaffRole.APPROVER)
GENERATED_LEVELS = (Region.Level.PROVINCE, Region.Level.PREFECTURE)
BATCH = 500

T = TypeVar("T")


class DemoError(Exception):
    """The demo file is wrong, or the content it needs is not loaded; the message says which."""


@dataclass(frozen=True)
class DemoLogin:
    username: str
    name: str
    posts: tuple[str, ...]
    note: str


@dataclass(frozen=True)
class GeneratedPost:
    """One generated staff member and their only post."""

    username: str
    name: str
    node: str
    region: str
    department: int | None
    role: str


@dataclass(frozen=True)
class DemoLoaded:
    logins: list[DemoLogin]
    generated: list[GeneratedPost]
    password: str


class Passwords:
    """The demo password, hashed once and shared; each distinct stored hash is checked once."""

    def __init__(self, password: str) -> None:
        self.password = password
        self._verdicts: dict[str, bool] = {}
        self._shared: str | None = None

    def matches(self, encoded: str) -> bool:
        if encoded not in self._verdicts:
            self._verdicts[encoded] = bool(encoded) and check_password(self.password, encoded)
        return self._verdicts[encoded]

    def prefer(self, encodings: Iterable[str]) -> None:
        """Reuse the most common stored hash that is still right, so a rerun hashes nothing."""
        for encoded, _ in Counter(encodings).most_common():
            if self.matches(encoded):
                self._shared = encoded
                return

    @property
    def shared(self) -> str:
        if self._shared is None:
            self._shared = make_password(self.password)
        return self._shared

    def settle(self, account: Account) -> bool:
        """Give the account the shared hash; True when that changed anything.

        A hash of the same password is only rewritten; a different password is replaced, and
        that revokes the account's tokens as any password change does.
        """
        if account.password == self.shared:
            return False
        if account.pk is not None and not self.matches(account.password):
            account.token_version += 1
        account.password = self.shared
        return True


def _chunks(items: list[T], size: int = BATCH) -> Iterator[list[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


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


def _upsert_account(entry: dict[str, Any], passwords: Passwords) -> Account:
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
    if passwords.settle(account):
        account.save(update_fields=["password", "token_version"])
    return account


def _sync_posts(account: Account, posts: list[dict[str, Any]]) -> list[str]:
    kept: list[int] = []
    labels: list[str] = []
    for post in posts:
        role = str(post["role"])
        if role not in StaffRole.values:
            raise DemoError(f"{account.username}：角色 {role} 无效。")
        node = _node(post["node"], account.username)
        # 国家平台的岗位（全国督办）不属于任何区划。
        hub_post = node.is_hub and not post.get("region")
        region = None if hub_post else _region(post.get("region"), account.username)
        functions = post.get("department") or []
        functions = [functions] if isinstance(functions, str) else [str(f) for f in functions]
        if functions and region is None:
            raise DemoError(f"{account.username}：部门岗位须写明区划。")
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
        labels.append(f"{node.code} {(department or region or node).name} {StaffRole(role).label}{window}")
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
    representative = str(entry.get("legal_representative_id_number") or "")
    try:
        representative = validate_citizen_id(representative) if representative else ""
    except DomainError as error:
        raise DemoError(f"{entry['name']}：法定代表人{error.detail}") from None
    enterprise, _ = Enterprise.objects.update_or_create(
        credit_code=code,
        defaults={
            "name": str(entry["name"]),
            "domicile": _region(entry["domicile"], str(entry["name"])),
            "legal_representative": str(entry.get("legal_representative", "")),
            "legal_representative_id_number": representative,
            "status": status,
            "registered_by": agents[0] if agents else None,
        },
    )
    if enterprise.registered_at is None:
        enterprise.registered_at = clock.now()
        enterprise.save(update_fields=["registered_at"])
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


def _owned_functions() -> set[tuple[str, str]]:
    """(node, department function) for every item a node's coverage names: the owner's and its legs'."""
    from tongban.catalog.models import Coverage, Item, Leg

    functions: dict[str, set[str]] = {code: {f} for code, f in Item.objects.values_list("code", "department_function")}
    for item, function in Leg.objects.values_list("item_version__item_id", "department_function").distinct():
        functions.setdefault(item, set()).add(function)
    covered = Coverage.objects.values_list("item_id", "node_id").distinct()
    return {(node, function) for item, node in covered for function in functions.get(item, ())}


def generated_posts(only_node: str | None = None) -> list[GeneratedPost]:
    """A reviewer and an approver for every province- and prefecture-level department of a function
    that owns an item covered at its node, and an administrator for every provincial node."""
    owned = _owned_functions()
    departments = Department.objects.filter(region__level__in=GENERATED_LEVELS).order_by(
        "node_id", "function", "region"
    )
    nodes = Node.objects.filter(active=True, is_hub=False, region__isnull=False).order_by("code")
    if only_node:
        departments, nodes = departments.filter(node_id=only_node), nodes.filter(code=only_node)
    posts = [
        GeneratedPost(
            username=STAFF_USERNAME.format(
                node=department.node_id, function=department.function, region=department.region_id, role=role
            ),
            name=f"{department.name}{StaffRole(role).label}",
            node=department.node_id,
            region=department.region_id,
            department=department.pk,
            role=role,
        )
        for department in departments
        if (department.node_id, department.function) in owned
        for role in GENERATED_ROLES
    ]
    posts += [
        GeneratedPost(
            username=ADMINISTRATOR_USERNAME.format(node=node.code),
            name=f"{node.name}管理员",
            node=node.code,
            region=str(node.region_id),
            department=None,
            role=StaffRole.ADMINISTRATOR,
        )
        for node in nodes
    ]
    return posts


def _sync_generated_accounts(posts: list[GeneratedPost], passwords: Passwords) -> dict[str, int]:
    """Create or correct the generated accounts in bulk; return username → id."""
    existing = {a.username: a for a in Account.objects.filter(username__regex=GENERATED_PATTERN)}
    passwords.prefer(a.password for a in existing.values())
    created: list[Account] = []
    changed: list[Account] = []
    for post in posts:
        account = existing.get(post.username)
        if account is None:
            created.append(Account(username=post.username, display_name=post.name, date_joined=clock.now()))
            passwords.settle(created[-1])
            continue
        before = (account.display_name, account.is_active, account.is_staff, account.is_superuser)
        account.display_name, account.is_active, account.is_staff, account.is_superuser = post.name, True, False, False
        if passwords.settle(account) | (before != (post.name, True, False, False)):
            changed.append(account)
    Account.objects.bulk_create(created, batch_size=BATCH)
    fields = ["display_name", "is_active", "is_staff", "is_superuser", "password", "token_version"]
    Account.objects.bulk_update(changed, fields, batch_size=BATCH)
    return dict(Account.objects.filter(username__regex=GENERATED_PATTERN).values_list("username", "pk"))


def _sync_generated_posts(posts: list[GeneratedPost], ids: dict[str, int]) -> None:
    """Exactly one active post per generated account; posts of accounts no longer generated end."""
    bindings = StaffBinding.objects.filter(account__username__regex=GENERATED_PATTERN)
    existing = {(b.account_id, b.node_id, b.department_id, b.role): b for b in bindings}
    kept: set[int] = set()
    created: list[StaffBinding] = []
    changed: list[StaffBinding] = []
    for post in posts:
        binding = existing.get((ids[post.username], post.node, post.department, post.role))
        if binding is None:
            created.append(
                StaffBinding(
                    account_id=ids[post.username],
                    node_id=post.node,
                    region_id=post.region,
                    department_id=post.department,
                    role=post.role,
                )
            )
            continue
        kept.add(binding.pk)
        if (binding.region_id, binding.active, binding.is_cross_province_window) != (post.region, True, False):
            binding.region_id, binding.active, binding.is_cross_province_window = post.region, True, False
            changed.append(binding)
    StaffBinding.objects.bulk_create(created, batch_size=BATCH)
    StaffBinding.objects.bulk_update(changed, ["region", "active", "is_cross_province_window"], batch_size=BATCH)
    ended = [b.pk for b in existing.values() if b.pk not in kept and b.active]
    for chunk in _chunks(ended):
        StaffBinding.objects.filter(pk__in=chunk).update(active=False)


@transaction.atomic
def load_demo(path: Path | None = None, *, generate: bool = True) -> DemoLoaded:
    """Create or update every demo account, post and enterprise; return what to show.

    With `generate=False` only the accounts the YAML names are loaded (generated ones are left as
    they are).
    """
    if settings.TONGBAN_NODE and settings.TONGBAN_NODE != settings.TONGBAN_HUB_NODE:
        # Accounts live at the hub; a node builds its replicas from the hub's signed facts.
        raise DemoError(
            f"本节点（{settings.TONGBAN_NODE}）是联邦中的省级节点：演示账号在国家平台加载，"
            "各节点在账号首次来办事时从国家平台取得账号信息，无需在本节点加载。"
        )
    data = read_demo_file(path or default_path())
    passwords = Passwords(str(data["password"]))
    names = [str(entry["username"]) for entry in data["accounts"]]
    passwords.prefer(Account.objects.filter(username__in=names).values_list("password", flat=True))
    accounts: dict[str, Account] = {}
    logins: list[DemoLogin] = []
    for entry in data["accounts"]:
        account = _upsert_account(entry, passwords)
        accounts[account.username] = account
        posts = _sync_posts(account, entry.get("posts") or [])
        if account.is_superuser:
            posts = ["平台超级管理员", *posts]
        logins.append(DemoLogin(account.username, account.display_name, tuple(posts), str(entry.get("note", ""))))
    enterprises = [_upsert_enterprise(entry, accounts) for entry in data.get("enterprises") or []]
    generated: list[GeneratedPost] = []
    if generate:
        # The hub (or the embedded default) keeps the accounts of every node's staff.
        generated = generated_posts()
        _sync_generated_posts(generated, _sync_generated_accounts(generated, passwords))
    audit.record(
        "tongban.identity.demo_loaded",
        node=settings.TONGBAN_NODE or settings.TONGBAN_HUB_NODE,
        object_type="demo",
        object_id="accounts",
        actor="system",
        role="system",
        data={"accounts": len(accounts), "generated": len(generated), "enterprises": len(enterprises)},
    )
    return DemoLoaded(logins=logins, generated=generated, password=passwords.password)

"""Who is acting, at which node, in which posts and for which enterprises.

Every write function and every scoped query takes an `Actor`; it is built once per request by
`resolve_actor` and never from request data further down.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest

from tongban.errors import DomainError
from tongban.identity.models import Account, Enterprise, StaffBinding
from tongban.regions.models import Department, Node

NODE_HEADER = "X-Tongban-Node"
SYSTEM_USERNAME = "system"
SYSTEM_ROLE = "system"


@dataclass(frozen=True)
class Actor:
    account: Account | None
    username: str
    name: str
    node: str | None
    bindings: tuple[StaffBinding, ...] = ()
    enterprises: tuple[Enterprise, ...] = ()
    is_system: bool = False

    @property
    def roles(self) -> set[str]:
        roles = {binding.role for binding in self.bindings}
        if self.is_system:
            roles.add(SYSTEM_ROLE)
        return roles

    @property
    def is_staff_member(self) -> bool:
        """Holds at least one post at the node it acts at."""
        return bool(self.bindings) or self.is_system

    def has_role(self, role: str, department: Department | int | None = None) -> bool:
        """A post with this role, optionally in this department (a Department or its id)."""
        if self.is_system and role == SYSTEM_ROLE:
            return True
        department_id = getattr(department, "pk", department)
        return any(
            binding.role == role and (department_id is None or binding.department_id == department_id)
            for binding in self.bindings
        )

    def bindings_with_role(self, *roles: str) -> tuple[StaffBinding, ...]:
        return tuple(binding for binding in self.bindings if binding.role in roles)

    def acts_for(self, credit_code: str) -> bool:
        """An active agent of this approved enterprise."""
        return any(enterprise.credit_code == credit_code for enterprise in self.enterprises)


def resolve_node(request: HttpRequest, account: Account | None) -> str | None:
    """The node a request acts at: the process's node, else the header, else the staff's only node."""
    requested = (request.headers.get(NODE_HEADER) or "").strip() or None
    if settings.TONGBAN_NODE:
        if requested and requested != settings.TONGBAN_NODE:
            raise DomainError(
                "wrong_node",
                f"本节点为 {settings.TONGBAN_NODE}，不能代替节点 {requested} 办理；请向该节点提交请求。",
                status=421,
            )
        return settings.TONGBAN_NODE
    if requested:
        if not Node.objects.filter(code=requested, active=True).exists():
            raise DomainError("unknown_node", f"节点“{requested}”不存在或未启用。")
        return requested
    if account is not None:
        nodes = set(StaffBinding.objects.filter(account=account, active=True).values_list("node_id", flat=True))
        if len(nodes) == 1:
            return nodes.pop()
    return None


def _bindings(account: Account, node: str | None) -> tuple[StaffBinding, ...]:
    if node is None:
        return ()
    query = StaffBinding.objects.filter(account=account, node_id=node, active=True)
    return tuple(query.select_related("node", "region", "department").order_by("id"))


def _enterprises(account: Account) -> tuple[Enterprise, ...]:
    query = Enterprise.objects.filter(
        agents__account=account, agents__active=True, status=Enterprise.Status.APPROVED
    ).select_related("domicile")
    return tuple(query.order_by("credit_code"))


def actor_for_account(account: Account, node: str | None) -> Actor:
    return Actor(
        account=account,
        username=account.username,
        name=account.display_name or account.username,
        node=node,
        bindings=_bindings(account, node),
        enterprises=_enterprises(account),
    )


def resolve_actor(request: HttpRequest, account: Account) -> Actor:
    return actor_for_account(account, resolve_node(request, account))


def request_actor(request: HttpRequest) -> Actor:
    """The actor of an authenticated API request (`request.auth`), built once per request."""
    cached = getattr(request, "_tongban_actor", None)
    if cached is None:
        cached = resolve_actor(request, request.auth)  # type: ignore[attr-defined]
        request._tongban_actor = cached  # type: ignore[attr-defined]
    return cached


def system_actor(node: str) -> Actor:
    """The platform itself, for automatic actions (deadline warnings, timeouts)."""
    return Actor(account=None, username=SYSTEM_USERNAME, name="系统", node=node, is_system=True)

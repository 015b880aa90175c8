"""婚姻登记办理地（marriage.registration_place）: where a couple may register a marriage or a divorce on a date.

Facts read:
    kind                     marriage 结婚登记 | divorce 离婚登记 (set per item in content/rules/items.yaml)
    party_a_hukou_region     男方常住户口所在地
    party_b_hukou_region     女方常住户口所在地
    residence_permit_region  一方居住证的发放地 (only needed to register on a residence permit)
    chosen_region            the registration office where the couple stand (a county, or a city)
    node                     the node where they stand (given by the eligibility answer; optional)

Value: {"allowed", "basis", "owner_region", "pilot_region", "reasons"}; `basis` is "hukou" (the office is in a
party's hukou place), "residence_permit" (a pilot region, neither party local, one holds a permit there) or
"anywhere" (no territorial restriction); `owner_region` is the office when allowed.

What "the same place" means (the granularity):
    - inside a pilot region, the pilot's own level: a provincial pilot counts the whole province as the place, a
      city pilot (a prefecture code) the city — for the hukou place and for the residence permit alike;
    - elsewhere, the parameter marriage.hukou_place_level: nationally `county`, because registration offices
      are county civil-affairs departments (婚姻登记条例 art. 2); a region may override it with prefecture or
      province where registration is offered across the city or province. A null value lifts the restriction.
The pilot regions themselves are parameter data (marriage.pilot_regions.<kind>); this module names no place.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from tongban.errors import DomainError
from tongban.rules.registry import RuleContext, rule

NAME = "marriage.registration_place"
LEVEL_PARAMETER = "marriage.hukou_place_level"
PILOT_PARAMETER = "marriage.pilot_regions.{kind}"
LEVELS = {"province": 1, "prefecture": 2, "county": 3}
KINDS = {"marriage": "结婚登记", "divorce": "离婚登记"}
PARTIES = ("party_a_hukou_region", "party_b_hukou_region")
FACTS = {
    "kind": "登记类型",
    "party_a_hukou_region": "男方户籍地",
    "party_b_hukou_region": "女方户籍地",
    "residence_permit_region": "居住证发放地",
    "chosen_region": "婚姻登记机关所在地",
    "node": "所在平台节点",
}


def _reason(code: str, detail: str) -> dict[str, str]:
    return {"code": code, "detail": detail}


def _answer(office: str, basis: str | None, reasons: list[dict[str, str]], pilot: str | None = None) -> dict[str, Any]:
    allowed = basis is not None and not reasons
    return {
        "allowed": allowed,
        "basis": basis,
        "owner_region": office if allowed else None,
        "pilot_region": pilot,
        "reasons": reasons,
    }


def _kind(ctx: RuleContext) -> str:
    kind = ctx.fact("kind")
    if kind not in KINDS:
        raise DomainError(
            "rule_fact_invalid",
            f"“{ctx.label('kind')}”（kind）应为 marriage（结婚登记）或 divorce（离婚登记），收到的是“{kind}”。",
            status=422,
        )
    return str(kind)


def _office(ctx: RuleContext) -> tuple[str, list[dict[str, str]]]:
    """The office's division, and a reason when it is not served by the node where the couple stand."""
    office = ctx.region_fact("chosen_region")
    node = ctx.fact("node")
    province = ctx.area_at(office, 1)
    if node and node != province:
        return office, [
            _reason(
                "office_not_at_node",
                f"婚姻登记须双方共同到婚姻登记机关办理：{ctx.place_name(office)}的婚姻登记机关由"
                f"{ctx.place_name(province)}的平台（{province}）受理，不在当前节点（{node}）。",
            )
        ]
    return office, []


def _level(ctx: RuleContext, office: str) -> int | None:
    level = ctx.param(LEVEL_PARAMETER, region=office)
    return None if level is None else LEVELS[level]


def _hukou_here(ctx: RuleContext, office: str, level: int) -> bool:
    hukou = [ctx.region_fact(party) for party in PARTIES]
    return any(ctx.same_place(code, office, level) for code in hukou)


def _not_hukou_place(ctx: RuleContext, kind: str, office: str, level: int) -> dict[str, str]:
    a, b = (ctx.place_name(ctx.fact(party)) for party in PARTIES)
    return _reason(
        "not_hukou_place",
        f"{KINDS[kind]}须到一方当事人常住户口所在地的婚姻登记机关办理：双方户籍地（{a}、{b}）"
        f"均不在{ctx.place_name(ctx.area_at(office, level))}。",
    )


@rule(NAME, version=3, effective_from=dt.date(2025, 5, 10), facts=FACTS)
@rule(NAME, version=0, effective_from=dt.date(2003, 10, 1), effective_until=dt.date(2021, 6, 1), facts=FACTS)
def outside_pilots(ctx: RuleContext) -> dict[str, Any]:
    """不设试点：在一方常住户口所在地登记；户籍地限制取消后（参数为 null），任一婚姻登记机关均可登记。"""
    kind = _kind(ctx)
    office, reasons = _office(ctx)
    level = _level(ctx, office)
    if level is None:
        return _answer(office, "anywhere", reasons)
    if _hukou_here(ctx, office, level):
        return _answer(office, "hukou", reasons)
    return _answer(office, None, [*reasons, _not_hukou_place(ctx, kind, office, level)])


@rule(NAME, version=2, effective_from=dt.date(2023, 5, 12), effective_until=dt.date(2025, 5, 10), facts=FACTS)
@rule(NAME, version=1, effective_from=dt.date(2021, 6, 1), effective_until=dt.date(2023, 5, 12), facts=FACTS)
def pilot(ctx: RuleContext) -> dict[str, Any]:
    """跨省通办试点：试点地区内双方均非本地户籍的，可凭一方居住证在居住证发放地登记；也可在一方户籍地登记。"""
    kind = _kind(ctx)
    office, reasons = _office(ctx)
    pilots = ctx.param(PILOT_PARAMETER.format(kind=kind)) or []
    region = next((code for code in pilots if ctx.within(office, code)), None)
    level = ctx.level(region) if region else _level(ctx, office)
    if level is None:
        return _answer(office, "anywhere", reasons)
    if _hukou_here(ctx, office, level):
        return _answer(office, "hukou", reasons, region)
    if region is None:
        not_pilot = _reason(
            "not_pilot_place",
            f"{ctx.place_name(office)}于 {ctx.as_of.isoformat()} 不在{KINDS[kind]}“跨省通办”试点地区，"
            "不能凭居住证在此登记。",
        )
        return _answer(office, None, [*reasons, _not_hukou_place(ctx, kind, office, level), not_pilot])
    return _permit_answer(ctx, office, region, level, reasons)


def _permit_answer(
    ctx: RuleContext, office: str, region: str, level: int, reasons: list[dict[str, str]]
) -> dict[str, Any]:
    place = ctx.place_name(ctx.area_at(office, level))
    permit = ctx.optional_region_fact("residence_permit_region")
    if permit is None:
        problem = _reason(
            "residence_permit_missing",
            f"双方户籍均不在{place}：须凭一方在{place}的有效居住证登记，请提供居住证发放地（residence_permit_region）。",
        )
    elif not ctx.same_place(permit, office, level):
        problem = _reason(
            "residence_permit_elsewhere",
            f"居住证发放地（{ctx.place_name(permit)}）不在{place}：须到居住证发放地的婚姻登记机关办理。",
        )
    else:
        return _answer(office, "residence_permit", reasons, region)
    return _answer(office, None, [*reasons, problem], region)

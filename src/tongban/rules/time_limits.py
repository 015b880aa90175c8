"""Time limits as rules: the 行政许可法 periods, the 异地代收代办 handover days and the yellow-warning threshold.

Each reads its dated parameters (content/rules/parameters/time_limits.yaml), so a case that records the
evaluation's trace keeps the values and references it was handled under. Regional values (e.g. a node's own
handover days) apply through the evaluation's region.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from tongban.rules.registry import RuleContext, rule

# 行政许可法 in force from 2004-07-01; 跨省通办 guidance (国办发〔2020〕35号) of 2020-09-24.
LICENSING_LAW = dt.date(2004, 7, 1)
CROSS_PROVINCE_GUIDANCE = dt.date(2020, 9, 24)
HANDOVER_STEPS = ("push", "mail", "recheck", "result_mail")


@rule(
    "licensing.time_limits",
    version=1,
    effective_from=LICENSING_LAW,
    facts={"joint": "是否统一办理、联合办理或者集中办理"},
)
def licensing_time_limits(ctx: RuleContext) -> dict[str, Any]:
    """行政许可的受理告知期限、决定期限与可延长期限（工作日）。"""
    joint = bool(ctx.fact("joint", False))
    prefix = "licensing.joint_decision" if joint else "licensing.decision"
    return {
        "acceptance_days": ctx.param("licensing.acceptance_days"),
        "decision_days": ctx.param(f"{prefix}_days"),
        "extension_days": ctx.param(f"{prefix}_extension_days"),
        "unit": "工作日",
    }


@rule("proxy.handover_days", version=1, effective_from=CROSS_PROVINCE_GUIDANCE)
def proxy_handover_days(ctx: RuleContext) -> dict[str, int]:
    """异地代收代办各交接环节的工作日数（推送、寄递、复核、寄出结果），可按节点所在地区调整。"""
    days = ctx.param("proxy.handover_days") or {}
    return {step: int(days[step]) for step in HANDOVER_STEPS if step in days}


@rule("warning.yellow_working_days", version=1, effective_from=CROSS_PROVINCE_GUIDANCE)
def yellow_working_days(ctx: RuleContext) -> int:
    """距承诺期限不超过此工作日数时亮黄灯。"""
    return int(ctx.param("warning.yellow_working_days"))

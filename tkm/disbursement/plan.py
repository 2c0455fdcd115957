"""Turn the workflow's tranche plan and an approved budget into tranches (pure, integer rupiah)."""

from __future__ import annotations

from dataclasses import dataclass

from tkm.workflow.definition import TranchePlan

COMPONENT_CODES = {"capital": "CAP", "wages": "WAG", "product_development": "DEV", "marketing": "MKT"}


@dataclass(frozen=True)
class PlannedTranche:
    component: str
    seq: int
    amount: int
    condition: str


def split(total: int, parts: list[int]) -> list[int]:
    """Split ``total`` by the integer weights ``parts``; the rounding remainder goes to the last part,
    so the pieces always add up to ``total`` exactly."""
    weight = sum(parts)
    pieces = [total * p // weight for p in parts]
    pieces[-1] += total - sum(pieces)
    return pieces


def plan_tranches(plan: tuple[TranchePlan, ...], approved: dict[str, int]) -> list[PlannedTranche]:
    out: list[PlannedTranche] = []
    for component in COMPONENT_CODES:
        total = int(approved.get(component) or 0)
        lines = [p for p in plan if p.component == component]
        if total <= 0 or not lines:
            continue
        # One weight per tranche: a line with periods=n becomes n tranches of share/n each.
        expanded: list[tuple[int, str]] = []
        for line in lines:
            for _ in range(line.periods):
                expanded.append((line.share * 1000 // line.periods, line.condition))
        amounts = split(total, [w for w, _c in expanded])
        seq = 0
        for (_w, condition), amount in zip(expanded, amounts, strict=True):
            if amount <= 0:
                continue
            seq += 1
            out.append(PlannedTranche(component, seq, amount, condition))
    return out


def reference(application_id: int, component: str, seq: int) -> str:
    return f"TKM-{application_id}-{COMPONENT_CODES[component]}{seq}"

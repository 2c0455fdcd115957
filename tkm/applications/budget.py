"""Budget lines (RAB): integer rupiah, line total = quantity × unit cost, checked against the programme."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tkm.applications.tables import BudgetLine
from tkm.core.errors import FieldError
from tkm.core.i18n import _
from tkm.core.money import rupiah
from tkm.programmes.schemas import COMPONENTS

#: A line quantity or unit cost above this is a typo, not a budget (and would overflow BigInt sums).
MAX_AMOUNT = 10**13


@dataclass(frozen=True)
class Line:
    component: str
    description: str
    quantity: int
    unit: str
    unit_cost: int

    @property
    def total(self) -> int:
        return self.quantity * self.unit_cost


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def check_lines(raw_lines: list[dict[str, Any]], programme: dict[str, Any]) -> tuple[list[Line], list[FieldError]]:
    """Validate budget lines against the programme's caps; returns the lines and every problem found."""
    errors: list[FieldError] = []
    lines: list[Line] = []
    rules: dict[str, dict[str, int]] = programme["components"]
    if not raw_lines:
        errors.append(FieldError("budget", _("Add at least one budget line.")))
    for i, raw in enumerate(raw_lines):
        key = f"budget[{i}]"
        component = raw.get("component")
        if component not in COMPONENTS:
            errors.append(FieldError(f"{key}.component", _("Use one of: %(names)s.", names=", ".join(COMPONENTS))))
            continue
        if component not in rules:
            errors.append(
                FieldError(f"{key}.component", _("This programme does not fund %(component)s.", component=component))
            )
            continue
        description = (raw.get("description") or "").strip()
        if not description:
            errors.append(FieldError(f"{key}.description", _("Describe what the money buys.")))
        elif len(description) > 300:
            errors.append(FieldError(f"{key}.description", _("At most %(n)d characters.", n=300)))
        unit = (raw.get("unit") or "").strip()
        if not unit or len(unit) > 30:
            errors.append(FieldError(f"{key}.unit", _("Give the unit, e.g. pcs, kg, hari, paket.")))
        quantity, unit_cost = raw.get("quantity"), raw.get("unit_cost")
        if not _is_int(quantity) or quantity <= 0 or quantity > MAX_AMOUNT:
            errors.append(FieldError(f"{key}.quantity", _("Must be a whole number greater than zero.")))
            continue
        if not _is_int(unit_cost) or unit_cost <= 0 or unit_cost > MAX_AMOUNT:
            errors.append(FieldError(f"{key}.unit_cost", _("Must be a whole number of rupiah greater than zero.")))
            continue
        if component == "wages":
            cap = rules["wages"].get("daily_wage_max")
            if cap and unit_cost > cap:
                errors.append(
                    FieldError(
                        f"{key}.unit_cost",
                        _(
                            "A daily wage of %(amount)s is above this programme's cap of %(cap)s.",
                            amount=rupiah(unit_cost),
                            cap=rupiah(cap),
                        ),
                    )
                )
                continue
        lines.append(Line(component, description, quantity, unit, unit_cost))
    if errors:
        return lines, errors
    totals = totals_of(lines)
    for component, total in totals.items():
        cap = rules[component]["max"]
        if total > cap:
            errors.append(
                FieldError(
                    f"budget.{component}",
                    _(
                        "%(component)s totals %(total)s, above this programme's cap of %(cap)s.",
                        component=component,
                        total=rupiah(total),
                        cap=rupiah(cap),
                    ),
                )
            )
    grand = sum(totals.values())
    if grand > programme["max_per_group"]:
        errors.append(
            FieldError(
                "budget",
                _(
                    "The budget totals %(total)s, above the %(cap)s a group may receive.",
                    total=rupiah(grand),
                    cap=rupiah(programme["max_per_group"]),
                ),
            )
        )
    return lines, errors


def totals_of(lines: list[Line]) -> dict[str, int]:
    totals: dict[str, int] = {}
    for line in lines:
        totals[line.component] = totals.get(line.component, 0) + line.total
    return totals


async def totals_by_component(application_id: int) -> dict[str, int]:
    rows = await BudgetLine.select(BudgetLine.component, BudgetLine.total).where(
        BudgetLine.application == application_id
    )
    totals: dict[str, int] = {}
    for r in rows:
        totals[r["component"]] = totals.get(r["component"], 0) + int(r["total"])
    return totals

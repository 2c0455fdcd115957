"""What the letters of the juknis cycle after the application show, frozen at issue time.

The group's statement of commitment (at submission), the cooperation agreement (at approval), the receipt
(kuitansi) and payment request (SPP) of each tranche, the accountability report (LPJ) at completion, and the
collective decree (one SK for the groups approved at once) with each group's extract (petikan).
``context.build`` hands these kinds here; everything returned is plain JSON.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from tkm import regions
from tkm.applications.tables import Attachment
from tkm.documents.kinds import ATTACHMENT_LABELS, CONDITION_LABELS, PRODUCT_LABELS
from tkm.documents.tables import Document
from tkm.programmes.schemas import COMPONENTS
from tkm.workflow import loader

#: Kinds of one application whose context is built here.
APPLICATION_KINDS = (
    "commitment_statement",
    "cooperation_agreement",
    "payment_receipt",
    "payment_request",
    "accountability_report",
    "decree_extract",
)
#: Kinds about one tranche (issued by the tranche flow).
TRANCHE_KINDS = ("payment_receipt", "payment_request")
#: A receipt above this many rupiah carries a duty stamp (bea meterai, UU 10/2020).
METERAI_ABOVE = 5_000_000


def _sentence(text: str) -> str:
    """A condition stated on its own (a table cell) starts with a capital; the SPM uses it inside a sentence."""
    return text[:1].upper() + text[1:]


def _component_rank(component: str) -> int:
    return COMPONENTS.index(component) if component in COMPONENTS else len(COMPONENTS)


def product_label(product: str) -> str:
    """``hand_sanitizer`` → ``Hand sanitizer``: a product as printed."""
    return PRODUCT_LABELS.get(product) or product.replace("_", " ")


def _month(period: str) -> str:
    """``2020-04`` → ``April 2020``."""
    from tkm.core import money

    return money.long_date(dt.date.fromisoformat(f"{period}-01"), "id").split(" ", 1)[1]


def _member(part: dict[str, Any], role: str) -> dict[str, Any] | None:
    return next((m for m in part["members"] if m["role"] == role), None)


async def letter_of(application_id: int, kind: str) -> dict[str, Any] | None:
    """The latest letter of ``kind`` for an application that is not void: its number and date."""
    from tkm.documents.context import local_date

    row = await (
        Document.select(Document.number, Document.issued_at, Document.context)
        .where(Document.application == application_id, Document.kind == kind, Document.voided_at.is_null())
        .order_by(Document.id, ascending=False)
        .first()
    )
    if row is None:
        return None
    context = json.loads(row["context"]) if isinstance(row["context"], str) else (row["context"] or {})
    return {
        "number": row["number"],
        "on": (context.get("document") or {}).get("dated_on") or local_date(row["issued_at"]),
    }


async def tranche_plan(application_id: int) -> list[dict[str, Any]]:
    """The tranches of a grant, by component then sequence, with their conditions in words."""
    from tkm.disbursement.tables import Tranche

    rows = await Tranche.select(
        Tranche.id, Tranche.component, Tranche.seq, Tranche.amount, Tranche.condition, Tranche.status
    ).where(Tranche.application == application_id)
    rows.sort(key=lambda r: (_component_rank(r["component"]), int(r["seq"])))
    from tkm.documents.context import component_label

    return [
        {
            "id": int(r["id"]),
            "component": r["component"],
            "label": component_label(r["component"]),
            "seq": int(r["seq"]),
            "amount": int(r["amount"]),
            "condition_label": _sentence(CONDITION_LABELS.get(r["condition"], "-")),
            "status": r["status"],
        }
        for r in rows
    ]


async def _cumulative(application_id: int, tranche: dict[str, Any], budget: list[dict[str, Any]]) -> dict[str, int]:
    """For the SPP's columns: the component's approved amount, what earlier payments of it paid, this request,
    and what remains after it."""
    from tkm.disbursement.tables import Tranche

    paid_states = loader.states_with("tranche", "paid")
    rows = await Tranche.select(Tranche.amount).where(
        Tranche.application == application_id,
        Tranche.component == tranche["component"],
        Tranche.id != tranche["id"],
        Tranche.status.is_in(paid_states),
    )
    approved = next((int(b["approved"]) for b in budget if b["component"] == tranche["component"]), 0)
    before = sum(int(r["amount"]) for r in rows)
    return {
        "approved": approved,
        "paid_before": before,
        "this": int(tranche["amount"]),
        "remaining": approved - before - int(tranche["amount"]),
    }


async def _activity(application_id: int) -> dict[str, Any]:
    """Production, sales and workers from the grant's accepted reports."""
    from tkm.reports.tables import Report, ReportProduction, ReportSale

    accepted = loader.states_with("report", "accepted")
    reports = await (
        Report.select(Report.id, Report.period, Report.workers, Report.final)
        .where(Report.application == application_id, Report.status.is_in(accepted))
        .order_by(Report.period)
    )
    ids = [int(r["id"]) for r in reports]
    production: dict[tuple[str, str], int] = {}
    sales: dict[str, dict[str, int]] = {}
    if ids:
        for row in await ReportProduction.select().where(ReportProduction.report.is_in(ids)):
            key = (row["product"], row["unit"])
            production[key] = production.get(key, 0) + int(row["quantity"])
        for row in await ReportSale.select().where(ReportSale.report.is_in(ids)):
            line = sales.setdefault(row["product"], {"quantity": 0, "revenue": 0})
            line["quantity"] += int(row["quantity"])
            line["revenue"] += int(row["revenue"])
    return {
        "reports": len(reports),
        "first_period": _month(reports[0]["period"]) if reports else "",
        "last_period": _month(reports[-1]["period"]) if reports else "",
        "workers": max((int(r["workers"]) for r in reports), default=0),
        "production": [
            {"product": p, "label": product_label(p), "unit": u, "quantity": q}
            for (p, u), q in sorted(production.items())
        ],
        "sales": [{"product": p, "label": product_label(p), **v} for p, v in sorted(sales.items())],
    }


async def _accountability(application_id: int, part: dict[str, Any]) -> dict[str, Any]:
    from tkm.documents.context import component_label
    from tkm.ledger import services as ledger
    from tkm.ledger.tables import FundReturn

    totals = await ledger.totals(application_id)
    rab = {b["component"]: int(b["approved"]) for b in part["budget"]}
    components = [
        {
            "component": c,
            "label": component_label(c),
            "approved": rab.get(c, int(v["approved"])),
            "disbursed": int(v["disbursed"]),
            "grant_spent": int(v["grant_spent"]),
            "returned": int(v["returned"]),
            "unspent": max(0, int(v["unspent"])),
        }
        for c, v in totals["by_component"].items()
    ]
    returns = await (
        FundReturn.select(FundReturn.amount, FundReturn.deposited_on, FundReturn.ntpn)
        .where(FundReturn.application == application_id)
        .order_by(FundReturn.deposited_on)
    )
    attachments = await (
        Attachment.select(Attachment.kind, Attachment.filename, Attachment.uploaded_at)
        .where(Attachment.application == application_id, Attachment.kind.is_in(["receipt", "photo"]))
        .order_by(Attachment.id)
    )
    from tkm.documents.context import local_date

    return {
        "components": components,
        "grant": {
            k: sum(r[k] for r in components) for k in ("approved", "disbursed", "grant_spent", "returned", "unspent")
        },
        "own": {
            "revenue": int(totals["revenue"]),
            "spent": int(totals["own_spent"]),
            "balance": int(totals["own_balance"]),
        },
        "returns": [
            {"amount": int(r["amount"]), "deposited_on": r["deposited_on"].isoformat(), "ntpn": r["ntpn"]}
            for r in returns
        ],
        "evidence": [
            {
                "label": ATTACHMENT_LABELS.get(a["kind"], "Dokumen"),
                "filename": a["filename"],
                "on": local_date(a["uploaded_at"]),
            }
            for a in attachments
        ],
        "activity": await _activity(application_id),
    }


async def collective_of(application_id: int) -> dict[str, Any] | None:
    """The collective decree (number and date) that the grant's extract cites, if it was approved with others."""
    extract = await (
        Document.select(Document.context)
        .where(Document.application == application_id, Document.kind == "decree_extract")
        .order_by(Document.id, ascending=False)
        .first()
    )
    if extract is None:
        return None
    snapshot = json.loads(extract["context"]) if isinstance(extract["context"], str) else extract["context"]
    return {"number": snapshot["collective"]["number"], "on": snapshot["collective"]["on"]}


async def build(kind: str, part: dict[str, Any], application_id: int, data: dict[str, Any]) -> dict[str, Any]:
    """Add what ``kind`` shows to an application's part (``context.application_part``)."""
    from tkm.documents.context import _tranche, decree_of

    part["treasurer"] = _member(part, "bendahara")
    part["secretary"] = _member(part, "sekretaris")
    if kind == "decree_extract":
        part["collective"] = dict(data["collective"])
        part["row"] = dict(data["row"])
        return part
    if kind != "commitment_statement":
        part["decree"] = await decree_of(application_id)
    if kind in ("payment_receipt", "payment_request", "accountability_report"):
        part["agreement"] = await letter_of(application_id, "cooperation_agreement")
    if kind == "cooperation_agreement":
        part["tranches"] = await tranche_plan(application_id)
    elif kind in TRANCHE_KINDS:
        tranche = _tranche(data, paid=False)
        tranche["condition_label"] = _sentence(tranche["due_condition"])  # already in words (context._tranche)
        tranche["meterai"] = tranche["amount"] > METERAI_ABOVE
        part["tranche"] = tranche
        part["cumulative"] = await _cumulative(application_id, tranche, part["budget"])
    elif kind == "accountability_report":
        part["accountability"] = await _accountability(application_id, part)
    return part


async def collective_part(data: dict[str, Any]) -> dict[str, Any]:
    """The collective decree: its programme, the approver's region and one annex row per approved group.

    ``data["rows"]`` were read in the approving transaction (``collective_rows``)."""
    from tkm.documents.context import region_path

    rows = list(data["rows"])
    region = str(data.get("region") or "")
    return {
        "programme": dict(data["programme"]),
        "scope": {"region": region, "name": region_path(region) if region else "Seluruh wilayah"},
        "workflow_title": str(data.get("workflow_title") or ""),
        "recipients": rows,
        "components": [{"component": c, "label": label} for c, label in data["components"]],
        "totals": {
            "by_component": {c: sum(r["amounts"].get(c, 0) for r in rows) for c, _label in data["components"]},
            "total": sum(r["total"] for r in rows),
        },
    }


async def collective_rows(application_ids: list[int]) -> dict[str, Any]:
    """What the collective decree lists, one row per group (in the order given): name, region, BLK, leader,
    approved amount per component and total. Also the programme and the components present."""
    from tkm.documents.context import application_part, component_label

    rows: list[dict[str, Any]] = []
    present: set[str] = set()
    programme: dict[str, Any] = {}
    workflow_title = ""
    for application_id in application_ids:
        part = await application_part(application_id)
        amounts = {b["component"]: int(b["approved"]) for b in part["budget"] if b["approved"]}
        present.update(amounts)
        programme = programme or part["programme"]
        workflow_title = workflow_title or part["application"]["workflow_title"]
        centre = part["group"]["training_centre"]
        rows.append(
            {
                "application_id": application_id,
                "group": part["group"]["name"],
                "leader": part["leader"]["name"] if part["leader"] else "",
                "region": regions.name(part["group"]["region"]) or part["group"]["region_path"],
                "region_path": part["group"]["region_path"],
                "training_centre": centre["name"] if centre else "-",
                "amounts": amounts,
                "total": sum(amounts.values()),
            }
        )
    components = [(c, component_label(c)) for c in COMPONENTS if c in present]
    return {"programme": programme, "workflow_title": workflow_title, "rows": rows, "components": components}

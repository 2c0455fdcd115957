"""Returns to the state treasury: a group deposits the grant money it did not spend (setoran sisa dana).

Under the government-aid rules (PMK 168/PMK.05/2015 as amended by PMK 132/PMK.05/2021) unspent money goes
back to the kas negara, proved by the treasury's receipt number (NTPN). Finance records the deposit: the
amount (at most the grant money the group still holds), the deposit date, the NTPN and the proof of deposit
(an attachment of the application). Recording it posts a ``return`` transaction (per component, from the
grant money the group holds) and issues a receipt letter, in one transaction; the call is idempotent.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

from tkm.applications import access
from tkm.applications.tables import Attachment
from tkm.auth.roles import CurrentUser, Role
from tkm.core import idempotency
from tkm.core.errors import Conflict, FieldError, Forbidden, ValidationProblem
from tkm.core.i18n import _
from tkm.core.money import rupiah
from tkm.ledger import services as ledger
from tkm.ledger.accounts import MAX_AMOUNT, Kind, return_legs
from tkm.ledger.posting import Posting
from tkm.ledger.tables import FundReturn
from tkm.programmes.schemas import COMPONENTS
from tkm.programmes.services import today

#: The NTPN is 16 letters and digits.
NTPN_RE = re.compile(r"^[0-9A-Z]{16}\Z")
#: Kinds of attachment that can prove a deposit.
PROOF_KINDS = ("receipt", "other")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check(body: dict[str, Any]) -> dict[str, Any]:
    errors: list[FieldError] = []
    for name in body:
        if name not in ("amount", "deposited_on", "ntpn", "attachment_id", "notes"):
            errors.append(FieldError(name, _("Not expected here.")))
    amount = body.get("amount")
    if not _is_int(amount) or amount <= 0 or amount > MAX_AMOUNT:
        errors.append(FieldError("amount", _("The amount deposited, in whole rupiah, more than zero.")))
    deposited_on = None
    try:
        deposited_on = dt.date.fromisoformat(body.get("deposited_on") or "")
    except (TypeError, ValueError):
        errors.append(FieldError("deposited_on", _("Give the date of the deposit, e.g. 2020-12-15.")))
    if deposited_on is not None and deposited_on > today():
        errors.append(FieldError("deposited_on", _("The deposit date cannot be in the future.")))
    ntpn = body.get("ntpn")
    ntpn = ntpn.strip().upper() if isinstance(ntpn, str) else ""
    if not NTPN_RE.match(ntpn):
        errors.append(FieldError("ntpn", _("The NTPN is the 16 letters and digits on the treasury's receipt.")))
    attachment_id = body.get("attachment_id")
    if not _is_int(attachment_id):
        errors.append(FieldError("attachment_id", _("Upload the proof of deposit first and give its id.")))
    notes = body.get("notes") or ""
    if not isinstance(notes, str) or len(notes) > 2000:
        errors.append(FieldError("notes", _("At most %(n)d characters.", n=2000)))
    if errors:
        raise ValidationProblem(errors)
    return {
        "amount": int(amount),
        "deposited_on": deposited_on,
        "ntpn": ntpn,
        "attachment_id": int(attachment_id),
        "notes": notes.strip(),
    }


def split(amount: int, held: dict[str, int]) -> dict[str, int]:
    """Take ``amount`` from the components' grant money, in the order of the RAB (pure; amount ≤ Σ held)."""
    out: dict[str, int] = {}
    left = amount
    for component in COMPONENTS:
        take = min(left, held.get(component, 0))
        if take > 0:
            out[component] = take
            left -= take
    return out


def return_out(row: dict[str, Any]) -> dict[str, Any]:
    by_component = row["by_component"]
    return {
        "id": row["id"],
        "application_id": row["application"],
        "amount": row["amount"],
        "deposited_on": row["deposited_on"].isoformat(),
        "ntpn": row["ntpn"],
        "attachment_id": row["attachment"],
        "notes": row["notes"],
        "by_component": json.loads(by_component) if isinstance(by_component, str) else by_component,
        "transaction_id": row["ledger_transaction"],
        "recorded_at": row["recorded_at"].isoformat(),
    }


async def _record(application_id: int, actor: CurrentUser, clean: dict[str, Any]) -> dict[str, Any]:
    app = await access.load(application_id, actor, lock=True)
    if actor.role != Role.finance:
        raise Forbidden(_("Only finance staff record deposits to the treasury."))
    if app["approved_at"] is None:
        raise Conflict(_("This application has no grant."))
    if clean["deposited_on"] < app["approved_at"].date():
        raise ValidationProblem([FieldError("deposited_on", _("The deposit cannot be before the approval."))])
    proof = (
        await Attachment.select(Attachment.id, Attachment.kind)
        .where(Attachment.id == clean["attachment_id"], Attachment.application == application_id)
        .first()
    )
    if proof is None or proof["kind"] not in PROOF_KINDS:
        raise ValidationProblem(
            [FieldError("attachment_id", _("Upload the proof of deposit to this application (kind receipt)."))]
        )
    if await FundReturn.exists().where(FundReturn.ntpn == clean["ntpn"]):
        raise Conflict(
            _("NTPN %(ntpn)s is already recorded.", ntpn=clean["ntpn"]),
            errors=[FieldError("ntpn", _("Already recorded."))],
        )
    held = (await ledger.pools(application_id))["grant"]
    unspent = sum(held.values())
    if clean["amount"] > unspent:
        raise Conflict(
            _(
                "The group holds %(unspent)s of unspent grant money; a deposit of %(amount)s is more than that.",
                unspent=rupiah(unspent),
                amount=rupiah(clean["amount"]),
            ),
            errors=[FieldError("amount", _("At most %(max)s.", max=rupiah(unspent)))],
            extra={"grant_unspent": unspent},
        )
    parts = split(clean["amount"], held)
    txn = await ledger.post(
        Posting(
            Kind.deposit,
            return_legs(application_id, parts),
            application_id=application_id,
            programme_id=int(app["programme"]),
            reference=clean["ntpn"],
            memo=clean["notes"],
            period=clean["deposited_on"].strftime("%Y-%m"),
            value_date=clean["deposited_on"],
            audit_details={"amount": clean["amount"], "ntpn": clean["ntpn"], "by_component": parts},
        ),
        actor,
    )
    rows = await FundReturn.insert(
        FundReturn(
            application=application_id,
            amount=clean["amount"],
            deposited_on=clean["deposited_on"],
            ntpn=clean["ntpn"],
            attachment=clean["attachment_id"],
            notes=clean["notes"],
            by_component=json.dumps(parts),
            ledger_transaction=txn,
            recorded_by=actor.id,
            recorded_at=dt.datetime.now(dt.UTC),
        )
    ).returning(FundReturn.id)
    row = await FundReturn.select().where(FundReturn.id == rows[0]["id"]).first()
    out = return_out(row)
    from tkm.documents import services as documents

    out["document_id"] = await documents.issue(
        "return_receipt", application_id=application_id, context_key=f"return:{row['id']}", actor=actor, data=out
    )
    return out


async def record_return(
    application_id: int, actor: CurrentUser, body: dict[str, Any], key: str | None
) -> idempotency.Outcome:
    """``POST /api/v1/applications/{id}/returns``: at most once per Idempotency-Key."""
    await access.load(application_id, actor)  # 404 for a record not the caller's, before judging the body
    clean = _check(body)

    async def run() -> tuple[int, Any]:
        return 201, await _record(application_id, actor, clean)

    return await idempotency.run(actor.id, key, f"POST /api/v1/applications/{application_id}/returns", body, run)


async def list_returns(application_id: int, actor: CurrentUser) -> list[dict[str, Any]]:
    await access.load(application_id, actor)
    rows = await FundReturn.select().where(FundReturn.application == application_id).order_by(FundReturn.id)
    return [return_out(r) for r in rows]

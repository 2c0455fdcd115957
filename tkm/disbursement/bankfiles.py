"""Bank files: the bulk-transfer CSV of authorized tranches, and bank statements that mark them paid.

Statement CSV (comma or semicolon separated, UTF-8, with a header row):
``reference`` (the tranche's TKM-… reference) and ``amount`` (whole rupiah) are
required; ``date`` (YYYY-MM-DD, the transfer date) and ``transfer_reference``
(the bank's own reference) are optional. A line matches when its reference is
an authorized tranche the caller may see and the amount is the same; every
matching line is paid through the same service as the pay action, each in its
own transaction. Nothing changes for a line that does not match.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import re
from collections.abc import AsyncIterator
from typing import Any

from tkm.auth.roles import CurrentUser, Role
from tkm.core.cells import safe_text
from tkm.core.errors import FieldError, Forbidden, Problem, ValidationProblem
from tkm.core.i18n import _
from tkm.core.inputs import has_control
from tkm.disbursement import services
from tkm.disbursement.tables import Tranche

BATCH_COLUMNS = [
    "reference",
    "bank",
    "account_number",
    "account_holder",
    "amount",
    "group",
    "application_id",
    "component",
    "tranche",
]
REQUIRED = ("reference", "amount")
MAX_STATEMENT_BYTES = 2 * 1024 * 1024
MAX_LINES = 5000


async def batch_csv(actor: CurrentUser, status: str | None) -> AsyncIterator[str]:
    """The bulk-transfer file, streamed a page at a time: the tranches in ``status``, by default those the
    tranche flow marks ``payable`` (waiting for the bank)."""
    wanted = status or services.flow().states_with("payable")
    # The file holds the groups' bank account numbers: finance staff make the transfers, nobody else needs them.
    if actor.role != Role.finance:
        raise Forbidden(_("Only finance staff read payment batches (they hold bank account numbers)."))
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(BATCH_COLUMNS)
    yield out.getvalue()
    offset = 0
    while True:
        items, _total = await services.list_tranches(actor, wanted, 500, offset)
        if not items:
            break
        out = io.StringIO()
        writer = csv.writer(out)
        for t in items:
            # Every text cell is neutralised (a group or account holder may be named like a formula).
            row = [
                t["reference"],
                t["bank_account"]["bank"],
                t["bank_account"]["number"],
                t["bank_account"]["holder"],
                t["amount"],
                t["group"],
                t["application_id"],
                t["component"],
                t["seq"],
            ]
            writer.writerow([safe_text(value) for value in row])
        yield out.getvalue()
        offset += len(items)


def parse_statement(raw: bytes) -> list[dict[str, Any]]:
    """The lines of a statement file; 422 naming ``file`` when the file itself is unusable."""
    if len(raw) > MAX_STATEMENT_BYTES:
        raise ValidationProblem([FieldError("file", _("A statement file may be at most 2 MB."))])
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationProblem([FieldError("file", _("The statement is not a UTF-8 text (CSV) file."))]) from None
    if "\x00" in text:
        raise ValidationProblem([FieldError("file", _("The statement is not a UTF-8 text (CSV) file."))])
    first = text.splitlines()[0] if text.strip() else ""
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise ValidationProblem(
            [
                FieldError(
                    "file",
                    _(
                        "The statement needs a header row with the columns %(columns)s (missing: %(missing)s).",
                        columns=", ".join(REQUIRED),
                        missing=", ".join(missing),
                    ),
                )
            ]
        )
    reader.fieldnames = header
    lines = []
    try:
        for number, row in enumerate(reader, start=2):
            if number > MAX_LINES + 1:
                raise ValidationProblem([FieldError("file", _("At most %(n)d lines per statement.", n=MAX_LINES))])
            if not any((v or "").strip() for v in row.values() if isinstance(v, str)):
                continue
            cells = {k: (v or "").strip() for k, v in row.items() if isinstance(k, str)}
            if any(has_control(text) for text in (*cells, *cells.values())):  # the database refuses NUL
                raise ValidationProblem(
                    [FieldError("file", _("Line %(n)d contains control characters (such as NUL).", n=number))]
                )
            lines.append({"line": number, **cells})
    except csv.Error as exc:
        raise ValidationProblem(
            [FieldError("file", _("The statement is not valid CSV: %(error)s.", error=str(exc)))]
        ) from None
    if not lines:
        raise ValidationProblem([FieldError("file", _("The statement has no lines."))])
    return lines


async def apply_statement(actor: CurrentUser, raw: bytes) -> dict[str, Any]:
    if actor.role != Role.finance:
        raise Forbidden(_("Only finance staff apply bank statements."))
    lines = parse_statement(raw)
    digest = hashlib.sha256(raw).hexdigest()[:12]
    matched: list[dict[str, Any]] = []
    unmatched: list[dict[str, Any]] = []
    seen: set[str] = set()
    for line in lines:
        ref, amount_text = line.get("reference", ""), line.get("amount", "")
        base = {"line": line["line"], "reference": ref, "amount": amount_text}
        if not re.fullmatch(r"[0-9]{1,15}", amount_text):
            unmatched.append({**base, "reason": _("The amount is not a whole number of rupiah.")})
            continue
        amount = int(amount_text)
        base["amount"] = amount
        if ref in seen:
            unmatched.append({**base, "reason": _("The same reference appears earlier in this statement.")})
            continue
        seen.add(ref)
        tranche = await _visible_tranche(actor, ref)
        if tranche is None:
            unmatched.append({**base, "reason": _("No tranche has this reference.")})
            continue
        flow = services.flow()
        if tranche["status"] not in flow.states_with("payable"):
            unmatched.append(
                {
                    **base,
                    "reason": _(
                        "The tranche is %(state)s, not waiting for the bank.", state=flow.state_label(tranche["status"])
                    ),
                }
            )
            continue
        if tranche["amount"] != amount:
            unmatched.append(
                {**base, "reason": _("The amount differs from the tranche (%(expected)d).", expected=tranche["amount"])}
            )
            continue
        try:
            paid_at = dt.date.fromisoformat(line["date"]) if line.get("date") else None
        except ValueError:
            unmatched.append({**base, "reason": _("The date is not YYYY-MM-DD.")})
            continue
        body = {
            "transfer_reference": line.get("transfer_reference") or f"STMT-{digest}-{line['line']}",
            "paid_at": (paid_at or _today()).isoformat(),
        }
        try:
            outcome = await services.act(int(tranche["id"]), "pay", actor, body, None)
        except Problem as problem:
            unmatched.append({**base, "reason": problem.detail})
            continue
        matched.append(
            {
                **base,
                "tranche_id": tranche["id"],
                "status": outcome.body["status"],
                "transfer_reference": body["transfer_reference"],
                "paid_at": body["paid_at"],
            }
        )
    return {"matched": matched, "unmatched": unmatched}


def _today() -> dt.date:
    from tkm.programmes.services import today

    return today()


async def _visible_tranche(actor: CurrentUser, ref: str) -> dict[str, Any] | None:
    query = Tranche.select(Tranche.id, Tranche.status, Tranche.amount).where(Tranche.reference == ref)
    scope = services._scope(actor)
    if scope is not None:
        query = query.where(scope)
    return await query.first()

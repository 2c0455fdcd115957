"""The workflow effects ``issue_letter`` (a letter issued inside the transition's transaction) and
``void_tranche_letters`` (a payment's letters void when the bank refuses it)."""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

from tkm.applications.tables import Attachment
from tkm.core.i18n import _
from tkm.documents import services
from tkm.documents.tables import Document
from tkm.workflow import loader
from tkm.workflow.engine import TransitionContext
from tkm.workflow.registry import Refusal, effect, guard

#: Kinds an action may issue, by the record its flow moves (the others need a trail or a programme and are
#: issued by the ledger and reports modules through the service functions).
LETTER_KINDS = {
    "application": (
        "submission_receipt",
        "revision_request",
        "approval_decree",
        "rejection_letter",
        "termination_letter",
        "commitment_statement",
        "cooperation_agreement",
        "accountability_report",
    ),
    "tranche": ("payment_request", "payment_receipt", "payment_order", "handover_record"),
    "amendment": ("amendment_decree",),
}

#: Letters an approval defers while several applications are approved at once (``COLLECTING``): the
#: collective decree replaces each group's own decree, and each agreement cites the decree's extract.
COLLECTIVE_DEFERS = ("approval_decree", "cooperation_agreement")

#: Set by the collective approval: ``[(application_id, approval event id)]`` of the items approved so far.
COLLECTING: ContextVar[list[tuple[int, int]] | None] = ContextVar("tkm_collective_approval", default=None)


@effect("issue_letter")
async def issue_letter(ctx: TransitionContext, kind: str) -> None:
    """Issue ``kind`` about this transition; running twice issues once.

    An application's letter is about the transition's history event; a tranche's payment order about this
    authorization (a new one after a bank failure) and its handover record about the payment. An approval
    decree brings the cooperation agreement with it. While several applications are approved at once
    (``COLLECTING``), the decree and the agreement wait for the collective decree. An amendment's decree is
    about the amendment (its budget before and after and the re-planned tranches).
    """
    if kind not in LETTER_KINDS.get(ctx.record_kind, ()):
        raise ValueError(f"issue_letter: {kind!r} is not a letter of a {ctx.record_kind}")
    collecting = COLLECTING.get()
    if collecting is not None and ctx.record_kind == "application" and kind in COLLECTIVE_DEFERS:
        if ctx.event_id is not None and (ctx.application_id, ctx.event_id) not in collecting:
            collecting.append((ctx.application_id, ctx.event_id))
        return
    if ctx.record_kind == "tranche":
        from tkm.disbursement.services import tranche_out
        from tkm.disbursement.tables import Tranche

        tranche = tranche_out(await Tranche.select().where(Tranche.id == ctx.record_id).first())
        if kind == "payment_order":
            document_id = await services.issue_payment_order(tranche, actor=ctx.actor, key=f"v{tranche['version']}")
        elif kind in ("payment_request", "payment_receipt"):
            document_id = await services.issue_tranche_letter(kind, tranche, actor=ctx.actor)
        else:
            document_id = await services.issue_handover_record(tranche, actor=ctx.actor, key=f"v{tranche['version']}")
    elif ctx.record_kind == "amendment":
        from tkm.amendments.services import decree_data

        document_id = await services.issue(
            kind,
            application_id=ctx.application_id,
            context_key=f"amendment:{ctx.record_id}",
            actor=ctx.actor,
            data=await decree_data(ctx.record_id),
        )
    else:
        document_id = await services.issue(
            kind, application_id=ctx.application_id, context_key=f"event:{ctx.event_id}", actor=ctx.actor
        )
        if kind == "approval_decree":  # the agreement cites the decree, so it follows it
            ctx.results.setdefault("documents", {})["cooperation_agreement"] = await services.issue(
                "cooperation_agreement",
                application_id=ctx.application_id,
                context_key=f"event:{ctx.event_id}",
                actor=ctx.actor,
            )
    ctx.results.setdefault("documents", {})[kind] = document_id


@effect("void_tranche_letters")
async def void_tranche_letters(ctx: TransitionContext) -> None:
    """The payment order and handover record of the payment that failed become void, with the bank's reason.

    The next authorization's payment order (and payment's handover record) replaces them.
    """
    if ctx.record_kind != "tranche":
        raise ValueError(f"void_tranche_letters: runs on a tranche's action, not a {ctx.record_kind}'s")
    reason = str(ctx.body.get("reason") or ctx.body.get("notes") or "").strip() or ctx.action.name
    ctx.results["voided_documents"] = await services.void_tranche_letters(ctx.record_id, reason, actor=ctx.actor)


@guard("agreement_signed")
async def agreement_signed(ctx: TransitionContext) -> Refusal | None:
    """The group's signed copy of its cooperation agreement is uploaded (an ``agreement`` attachment made after
    the agreement was issued) before any money moves."""
    issued = await (
        Document.select(Document.issued_at)
        .where(
            Document.application == ctx.application_id,
            Document.kind == "cooperation_agreement",
            Document.voided_at.is_null(),
        )
        .order_by(Document.id, ascending=False)
        .first()
    )
    if issued is None:
        return Refusal(
            _("The cooperation agreement has not been issued yet; the office issues it when the grant is approved."),
            field="attachments",
        )
    signed = await Attachment.exists().where(
        Attachment.application == ctx.application_id,
        Attachment.kind == "agreement",
        Attachment.uploaded_at >= issued["issued_at"],
    )
    if not signed:
        return Refusal(
            _(
                "The signed cooperation agreement is missing: download the agreement, have the group's leader sign "
                'it, and upload the signed copy as "%(kind)s" first.',
                kind=_("Signed agreement"),
            ),
            field="attachments",
        )
    return None


def startup(settings: Any) -> None:
    """A flow naming a letter its records cannot have stops start-up (the loader checks names, not parameters)."""
    for flow in loader.all_flows():
        allowed = LETTER_KINDS.get(flow.record, ())
        for action in flow.actions.values():
            for i, ref in enumerate(action.effects):
                if ref.name != "issue_letter":
                    continue
                kind = ref.params.get("kind")
                if kind not in allowed or set(ref.params) != {"kind"}:
                    raise loader.WorkflowError(
                        f"{flow.file}: actions.{action.name}.effects[{i}]: issue_letter takes kind = one of "
                        f"{', '.join(allowed) or '(none for ' + flow.record + ' records)'} (got {ref.params!r})"
                    )

"""The workflow effects ``issue_letter`` (a letter issued inside the transition's transaction) and
``void_tranche_letters`` (a payment's letters void when the bank refuses it)."""

from __future__ import annotations

from typing import Any

from tkm.documents import services
from tkm.workflow import loader
from tkm.workflow.engine import TransitionContext
from tkm.workflow.registry import effect

#: Kinds an action may issue, by the record its flow moves (the others need a trail or a programme and are
#: issued by the ledger and reports modules through the service functions).
LETTER_KINDS = {
    "application": (
        "submission_receipt",
        "revision_request",
        "approval_decree",
        "rejection_letter",
        "termination_letter",
    ),
    "tranche": ("payment_order", "handover_record"),
    "amendment": ("amendment_decree",),
}


@effect("issue_letter")
async def issue_letter(ctx: TransitionContext, kind: str) -> None:
    """Issue ``kind`` about this transition; running twice issues once.

    An application's letter is about the transition's history event; a tranche's payment order about this
    authorization (a new one after a bank failure) and its handover record about the payment; an amendment's
    decree about the amendment (its budget before and after and the re-planned tranches).
    """
    if kind not in LETTER_KINDS.get(ctx.record_kind, ()):
        raise ValueError(f"issue_letter: {kind!r} is not a letter of a {ctx.record_kind}")
    if ctx.record_kind == "tranche":
        from tkm.disbursement.services import tranche_out
        from tkm.disbursement.tables import Tranche

        tranche = tranche_out(await Tranche.select().where(Tranche.id == ctx.record_id).first())
        if kind == "payment_order":
            document_id = await services.issue_payment_order(tranche, actor=ctx.actor, key=f"v{tranche['version']}")
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

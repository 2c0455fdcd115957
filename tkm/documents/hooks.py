"""The workflow effect ``issue_letter``: a letter issued inside the transition's transaction."""

from __future__ import annotations

from typing import Any

from tkm.documents import services
from tkm.workflow import loader
from tkm.workflow.engine import TransitionContext
from tkm.workflow.registry import effect

#: Kinds a workflow action may issue (the others need a tranche, a trail or a programme and are issued by
#: the disbursement, ledger and reports modules through the service functions).
LETTER_KINDS = ("submission_receipt", "revision_request", "approval_decree", "rejection_letter")


@effect("issue_letter")
async def issue_letter(ctx: TransitionContext, kind: str) -> None:
    """Issue ``kind`` about this transition (its history event); running twice issues once."""
    if kind not in LETTER_KINDS:
        raise ValueError(f"issue_letter: {kind!r} is not one of {', '.join(LETTER_KINDS)}")
    document_id = await services.issue(
        kind, application_id=ctx.application_id, context_key=f"event:{ctx.event_id}", actor=ctx.actor
    )
    ctx.results.setdefault("documents", {})[kind] = document_id


def startup(settings: Any) -> None:
    """A workflow file naming an unknown letter kind stops start-up (the loader checks names, not parameters)."""
    for name in loader.names():
        workflow = loader.get(name)
        for action in workflow.actions.values():
            for i, ref in enumerate(action.effects):
                if ref.name != "issue_letter":
                    continue
                kind = ref.params.get("kind")
                if kind not in LETTER_KINDS or set(ref.params) != {"kind"}:
                    raise loader.WorkflowError(
                        f"{workflow.file}: actions.{action.name}.effects[{i}]: issue_letter takes kind = one of "
                        f"{', '.join(LETTER_KINDS)} (got {ref.params!r})"
                    )

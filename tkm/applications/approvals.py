"""Several applications decided at once (``POST /api/v1/approvals``, the approvals page): the collective SK.

Each application is its own ``engine.run`` under a savepoint of one transaction, so an item in the wrong state
or refused by a guard fails alone, with its problem, and the others go on. The approved items yield one
collective decree (``collective_decree``) whose annex lists every group approved, and for each group an extract
(``decree_extract``) citing the decree's number and date, then its cooperation agreement; they commit with the
approvals or not at all. A rejection issues its own rejection letter, as a single one does.
"""

from __future__ import annotations

from typing import Any

import structlog

from tkm.auth.roles import CurrentUser
from tkm.core import db
from tkm.core.errors import FieldError, Problem, ValidationProblem
from tkm.core.i18n import _
from tkm.workflow import engine

log = structlog.get_logger(__name__)

ACTIONS = {"approve": "notes", "reject": "reasons"}
#: One call decides at most this many applications (a batch of 500 is one SK).
MAX_ITEMS = 1000
MAX_ID = 2**31 - 1


def _check(data: dict[str, Any]) -> tuple[list[int], str, dict[str, Any]]:
    errors: list[FieldError] = []
    unknown = set(data) - {"applications", "action", "notes", "reasons"}
    errors += [FieldError(k, _("Not expected here.")) for k in sorted(unknown)]
    action = data.get("action")
    if action not in ACTIONS:
        errors.append(FieldError("action", _("Choose approve or reject.")))
    ids = data.get("applications")
    clean: list[int] = []
    if not isinstance(ids, list) or not ids:
        errors.append(FieldError("applications", _("Give the ids of the applications to decide, as a list.")))
    elif len(ids) > MAX_ITEMS:
        errors.append(FieldError("applications", _("At most %(n)d applications at once.", n=MAX_ITEMS)))
    else:
        for i, value in enumerate(ids):
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_ID:
                errors.append(FieldError(f"applications[{i}]", _("An application id is a positive whole number.")))
            elif value in clean:
                errors.append(FieldError(f"applications[{i}]", _("Application %(id)s is listed twice.", id=value)))
            else:
                clean.append(value)
    body: dict[str, Any] = {}
    for name in ("notes", "reasons"):
        value = data.get(name)
        if value is not None and not isinstance(value, str):
            errors.append(FieldError(name, _("Must be text.")))
        elif isinstance(value, str) and value.strip():
            body[name] = value.strip()
    if action in ACTIONS:
        wanted = ACTIONS[action]
        other = next(k for k in ACTIONS.values() if k != wanted)
        if other in body:  # the text goes under the action's own name
            body.setdefault(wanted, body.pop(other))
        if action == "reject" and not body.get("reasons"):
            errors.append(FieldError("reasons", _("Give the reasons for rejecting.")))
    if errors:
        raise ValidationProblem(errors)
    return clean, str(action), body


def _common_region(codes: list[str]) -> str:
    """The most specific region covering all ``codes`` (``13.71`` and ``13.72`` → ``13``)."""
    parts = [c.split(".") for c in codes if c]
    if not parts:
        return ""
    common: list[str] = []
    for level in zip(*parts, strict=False):
        if len(set(level)) != 1:
            break
        common.append(level[0])
    return ".".join(common)


async def decide(
    actor: CurrentUser, data: dict[str, Any], versions: dict[int, int | None] | None = None
) -> list[dict[str, Any]]:
    """Approve or reject several applications; one result ``{"id","status","problem","documents"}`` each.

    ``versions`` (the page's ticked rows) are each application's ``If-Match``."""
    from tkm.applications.tables import Application
    from tkm.documents import hooks as letters
    from tkm.documents import services as documents

    ids, action, body = _check(data)
    results: list[dict[str, Any]] = []
    collected: list[tuple[int, int]] = []
    token = letters.COLLECTING.set(collected if action == "approve" else None)
    try:
        async with db.transaction():
            txn = db.get_engine().current_transaction.get()
            # Every application of the batch first, in id order: an approval locks its application, then the
            # programme; holding the programme while locking the next application would deadlock with a single
            # approval of that application.
            await db.for_update(
                Application.select(Application.id).where(Application.id.is_in(ids)).order_by(Application.id)
            )
            for application_id in ids:
                savepoint = await txn.savepoint()
                try:
                    ctx = await engine.run(
                        "application", application_id, action, actor, dict(body), (versions or {}).get(application_id)
                    )
                except Problem as problem:
                    await savepoint.rollback_to()
                    collected[:] = [c for c in collected if c[0] != application_id]  # its approval is undone
                    status = problem.extra.get("current_status") if problem.status != 404 else None
                    results.append({"id": application_id, "status": status, "problem": problem.body(), "documents": {}})
                else:
                    await savepoint.release()
                    found = dict(ctx.results.get("documents", {}))
                    results.append({"id": application_id, "status": ctx.to_state, "problem": None, "documents": found})
            # One decree per programme (a batch is normally one call for applications): its annex, its office.
            rows = await Application.select(Application.id, Application.region, Application.programme).where(
                Application.id.is_in([a for a, _e in collected] or [0])
            )
            by_programme: dict[int, list[tuple[int, int]]] = {}
            regions_of: dict[int, list[str]] = {}
            row_of = {int(r["id"]): r for r in rows}
            for application_id, event_id in collected:
                programme = int(row_of[application_id]["programme"])
                by_programme.setdefault(programme, []).append((application_id, event_id))
                regions_of.setdefault(programme, []).append(row_of[application_id]["region"])
            for programme, approved in by_programme.items():
                issued = await documents.issue_collective_decree(
                    approved, actor=actor, region=_common_region(regions_of[programme])
                )
                for item in results:
                    if item["id"] in issued["extracts"]:
                        item["documents"] |= {
                            "collective_decree": issued["decree"],
                            "decree_extract": issued["extracts"][item["id"]],
                            "cooperation_agreement": issued["agreements"][item["id"]],
                        }
    finally:
        letters.COLLECTING.reset(token)
    log.info(
        "applications.decided",
        action=action,
        count=len(ids),
        done=sum(1 for r in results if r["problem"] is None),
    )
    return results

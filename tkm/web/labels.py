"""Words for people for the codes the services use (components, document kinds, member roles, ...).

Message ids are English; templates show them through the ``label`` filter,
e.g. ``{{ "capital" | label("component") }}`` → "Modal kerja".
"""

from __future__ import annotations

import re

from tkm.auth.roles import ROLE_LABELS
from tkm.core.i18n import N_, gettext

LABELS: dict[str, dict[str, str]] = {
    "component": {
        "capital": N_("Working capital"),
        "wages": N_("Wages"),
        "product_development": N_("Product development"),
        "marketing": N_("Marketing"),
    },
    "kind": {
        "proposal": N_("Proposal"),
        "ktp": N_("Identity cards (KTP)"),
        "sk_kelompok": N_("Group decree (SK kelompok)"),
        "photo": N_("Photo"),
        "agreement": N_("Signed agreement"),
        "receipt": N_("Receipt"),
        "other": N_("Other document"),
    },
    "member_role": {
        "ketua": N_("Leader (ketua)"),
        "sekretaris": N_("Secretary (sekretaris)"),
        "bendahara": N_("Treasurer (bendahara)"),
        "anggota": N_("Member (anggota)"),
    },
    "gender": {"L": N_("Male (L)"), "P": N_("Female (P)")},
    "role": {str(k): v for k, v in ROLE_LABELS.items()},
    # Fields of workflow action bodies (workflows/*.toml); unknown names are shown as they are.
    "body": {
        "notes": N_("Notes"),
        "reasons": N_("Reasons"),
        "reason": N_("Reason"),
        "no_conflict_of_interest": N_(
            "I declare that I have no conflict of interest with this group: no family, business or money ties "
            "to any of its members."
        ),
        "scores": N_("Scores"),
        "recommended_budget": N_("Recommended budget"),
    },
    "action": {"create": N_("Application created")},
    "condition": {
        "on_approval": N_("From approval"),
        "after_first_accepted_report": N_("After the first accepted report"),
        "after_accepted_reports": N_("After accepted monthly reports"),
    },
    "source": {"grant": N_("TKM grant"), "sales": N_("Own sales money")},
    "expense": {
        "raw_materials": N_("Raw materials"),
        "equipment": N_("Equipment"),
        "wages": N_("Wages"),
        "marketing": N_("Marketing"),
        "other": N_("Other"),
    },
    "entry": {
        "commit": N_("Approved budget"),
        "payment": N_("Payment to the group"),
        "report_expense": N_("Grant money spent (report)"),
        "report_revenue": N_("Sales (report)"),
        "report_reinvestment": N_("Own sales money spent (report)"),
        "return": N_("Returned to the treasury"),
        "reversal": N_("Reversal"),
        "release": N_("Released to the programme"),
        "amendment": N_("Budget amendment"),
    },
    "doc": {
        "submission_receipt": N_("Submission receipt"),
        "revision_request": N_("Revision request"),
        "approval_decree": N_("Approval decree (SK)"),
        "amendment_decree": N_("Budget amendment decree"),
        "rejection_letter": N_("Rejection letter"),
        "termination_letter": N_("Termination letter"),
        "payment_order": N_("Payment order (SPM)"),
        "handover_record": N_("Handover record (BAST)"),
        "funds_trail": N_("Funds trail"),
        "return_receipt": N_("Receipt of a deposit to the treasury"),
        "commitment_statement": N_("Statement of commitment"),
        "cooperation_agreement": N_("Cooperation agreement"),
        "payment_receipt": N_("Receipt of payment (kuitansi)"),
        "payment_request": N_("Payment request (SPP)"),
        "accountability_report": N_("Accountability report (LPJ)"),
        "collective_decree": N_("Collective decree (SK)"),
        "decree_extract": N_("Extract of the decree (petikan)"),
        "programme_summary": N_("Programme summary"),
    },
    "document_status": {"pending": N_("Being made"), "ready": N_("Ready"), "failed": N_("Failed"), "void": N_("Void")},
}

#: A funds-trail line's component: a budget component (commitments, payments) or an expense category (spending).
LABELS["trail_component"] = {**LABELS["expense"], **LABELS["component"]}

#: Lists on forms, for saying which row an error is about ("Member 3: ...").
ROW_LABELS = {
    "members": N_("Member %(n)s: "),
    "budget": N_("Budget line %(n)s: "),
    "business_plan.products": N_("Product %(n)s: "),
    "production": N_("Production line %(n)s: "),
    "sales": N_("Sales line %(n)s: "),
    "expenses": N_("Expense line %(n)s: "),
}
_ROW = re.compile(r"^(?P<prefix>[a-z_.]+)\[(?P<index>[0-9]+)\]")

MEMBER_ROLES = tuple(LABELS["member_role"])
GENDERS = tuple(LABELS["gender"])


#: Label kinds whose words come from a flow file (workflows/flows/*.toml): kind → (record, "state" | "action").
FLOW_LABELS = {
    "tranche_status": ("tranche", "state"),
    "tranche_action": ("tranche", "action"),
    "report_status": ("report", "state"),
    "report_action": ("report", "action"),
    "amendment_status": ("amendment", "state"),
    "amendment_action": ("amendment", "action"),
}


def label(code: object, kind: str) -> str:
    if kind in FLOW_LABELS:
        from tkm.workflow import loader

        record, part = FLOW_LABELS[kind]
        flow = loader.flow(record)
        return flow.state_label(str(code)) if part == "state" else flow.action_label(str(code))
    text = LABELS.get(kind, {}).get(str(code))
    return gettext(text) if text else str(code)


def field_context(field: str) -> str:
    """``members[2].nik`` → "Member 3: " (empty for plain fields)."""
    match = _ROW.match(field)
    if not match or match["prefix"] not in ROW_LABELS:
        return ""
    return gettext(ROW_LABELS[match["prefix"]], n=int(match["index"]) + 1)

from tkm.core.domain import Domain, NavItem
from tkm.core.i18n import N_

DOMAIN = Domain(
    name="applications",
    tables="tkm.applications.tables",
    routes=(
        "tkm.applications.api:ApplicationController",
        "tkm.applications.api:AttachmentController",
        "tkm.applications.api:ApprovalController",
        "tkm.applications.html:ApplicationPages",
    ),
    nav=(
        NavItem(N_("My applications"), "/applications", roles=("applicant",), order=20),
        NavItem(N_("Review queue"), "/review", roles=("reviewer",), order=30),
        NavItem(N_("Approvals"), "/approvals", roles=("approver",), order=35),
        NavItem(
            N_("Applications"), "/applications", roles=("reviewer", "approver", "finance", "auditor", "admin"), order=70
        ),
    ),
    hooks="tkm.applications.hooks",
    checks=(("approved budgets against commitments", "tkm.applications.integrity:verify"),),
)

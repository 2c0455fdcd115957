from tkm.core.domain import Domain, NavItem, Panel
from tkm.core.i18n import N_

DOMAIN = Domain(
    name="disbursement",
    tables="tkm.disbursement.tables",
    routes=("tkm.disbursement.api:TrancheController", "tkm.disbursement.html:FinancePages"),
    nav=(NavItem(N_("Finance"), "/finance", roles=("finance", "auditor"), order=40, also=("/tranches",)),),
    panels=(
        Panel(
            "disbursement/_panel.html",
            load="tkm.disbursement.html:tranches_panel",
            roles=("applicant", "reviewer", "approver", "finance", "auditor", "admin"),
            order=10,
        ),
    ),
    hooks="tkm.disbursement.hooks",
    checks=(("tranches against the ledger", "tkm.disbursement.integrity:verify"),),
)

from tkm.core.i18n import N_
from tkm.disbursement.api import TrancheController
from tkm.disbursement.html import FinancePages, tranches_panel
from tkm.web.nav import NavItem, Panel

ROUTES = [TrancheController, FinancePages]

NAV = [NavItem(N_("Finance"), "/finance", roles=("finance", "auditor"), order=40, also=("/tranches",))]

APPLICATION_PANELS = [
    Panel(
        "disbursement/_panel.html",
        load=tranches_panel,
        roles=("applicant", "reviewer", "approver", "finance", "auditor", "admin"),
        order=10,
    )
]

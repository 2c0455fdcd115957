from tkm.ledger.api import FundsTrailController
from tkm.ledger.html import FundsTrailPages, trail_panel
from tkm.web.nav import Panel

ROUTES = [FundsTrailController, FundsTrailPages]

APPLICATION_PANELS = [
    Panel(
        "partials/panel.html",
        load=trail_panel,
        roles=("applicant", "reviewer", "approver", "finance", "auditor", "admin"),
        order=15,
    )
]

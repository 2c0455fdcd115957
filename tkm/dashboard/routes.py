from tkm.core.i18n import N_
from tkm.dashboard.api import DashboardController
from tkm.dashboard.html import DashboardPages
from tkm.web.nav import NavItem

ROUTES = [DashboardController, DashboardPages]

NAV = [
    NavItem(
        N_("Dashboard"),
        "/dashboard",
        roles=("applicant", "reviewer", "approver", "finance", "auditor", "admin"),
        order=50,
    )
]

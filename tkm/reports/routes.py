from tkm.core.i18n import N_
from tkm.reports.api import ApplicationReportsController, ReportController
from tkm.reports.html import ReportPages, reports_panel
from tkm.web.nav import NavItem, Panel

ROUTES = [ApplicationReportsController, ReportController, ReportPages]

NAV = [NavItem(N_("Monthly reports"), "/reports", roles=("reviewer",), order=60)]

APPLICATION_PANELS = [
    Panel(
        "reports/_panel.html",
        load=reports_panel,
        roles=("applicant", "reviewer", "approver", "finance", "auditor", "admin"),
        order=30,
    )
]

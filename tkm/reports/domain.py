from tkm.core.domain import Domain, NavItem, Panel
from tkm.core.i18n import N_

DOMAIN = Domain(
    name="reports",
    tables="tkm.reports.tables",
    routes=(
        "tkm.reports.api:ApplicationReportsController",
        "tkm.reports.api:ReportController",
        "tkm.reports.html:ReportPages",
    ),
    nav=(NavItem(N_("Monthly reports"), "/reports", roles=("reviewer",), order=60),),
    panels=(
        Panel(
            "reports/_panel.html",
            load="tkm.reports.html:reports_panel",
            roles=("applicant", "reviewer", "approver", "finance", "auditor", "admin"),
            order=30,
        ),
    ),
    tasks="tkm.reports.tasks",
    hooks="tkm.reports.hooks",
)

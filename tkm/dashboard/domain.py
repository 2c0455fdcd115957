from tkm.core.domain import Domain, NavItem
from tkm.core.i18n import N_

DOMAIN = Domain(
    name="dashboard",
    routes=("tkm.dashboard.api:DashboardController", "tkm.dashboard.html:DashboardPages"),
    nav=(
        NavItem(
            N_("Dashboard"),
            "/dashboard",
            roles=("applicant", "reviewer", "approver", "finance", "auditor", "admin"),
            order=50,
        ),
    ),
    startup=("tkm.dashboard.hooks:startup",),
    hooks="tkm.dashboard.hooks",
)

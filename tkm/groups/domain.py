from tkm.core.domain import Domain, NavItem
from tkm.core.i18n import N_

DOMAIN = Domain(
    name="groups",
    tables="tkm.groups.tables",
    routes=("tkm.groups.api:GroupController", "tkm.groups.html:GroupPages"),
    nav=(
        NavItem(N_("My groups"), "/groups", roles=("applicant",), order=10),
        NavItem(N_("Groups"), "/groups", roles=("reviewer", "approver", "finance", "auditor", "admin"), order=80),
    ),
)

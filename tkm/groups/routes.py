from tkm.core.i18n import N_
from tkm.groups.api import GroupController
from tkm.groups.html import GroupPages
from tkm.web.nav import NavItem

ROUTES = [GroupController, GroupPages]

NAV = [
    NavItem(N_("My groups"), "/groups", roles=("applicant",), order=10),
    NavItem(N_("Groups"), "/groups", roles=("reviewer", "approver", "finance", "auditor", "admin"), order=80),
]

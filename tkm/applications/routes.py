from tkm.applications.api import ApplicationController, AttachmentController
from tkm.applications.html import ApplicationPages
from tkm.core.i18n import N_
from tkm.web.nav import NavItem

ROUTES = [ApplicationController, AttachmentController, ApplicationPages]

NAV = [
    NavItem(N_("My applications"), "/applications", roles=("applicant",), order=20),
    NavItem(N_("Review queue"), "/review", roles=("reviewer",), order=30),
    NavItem(N_("Approvals"), "/approvals", roles=("approver",), order=35),
    NavItem(
        N_("Applications"), "/applications", roles=("reviewer", "approver", "finance", "auditor", "admin"), order=70
    ),
]

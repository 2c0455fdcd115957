from tkm.core.i18n import N_
from tkm.documents.api import DocumentController, OfficeController, VerifyController
from tkm.documents.html import ProgrammeReportPages, VerifyPages, letters_panel
from tkm.web.nav import NavItem, Panel

ROUTES = [DocumentController, OfficeController, VerifyController, VerifyPages, ProgrammeReportPages]

NAV = [NavItem(N_("Programme report"), "/programme-reports", roles=("finance", "auditor"), order=62)]

APPLICATION_PANELS = [
    Panel(
        "documents/_panel.html",
        load=letters_panel,
        roles=("applicant", "reviewer", "approver", "finance", "auditor", "admin"),
        order=20,
    )
]

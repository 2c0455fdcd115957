from tkm.core.domain import Domain, NavItem, Panel
from tkm.core.i18n import N_

DOMAIN = Domain(
    name="documents",
    tables="tkm.documents.tables",
    routes=(
        "tkm.documents.api:DocumentController",
        "tkm.documents.api:OfficeController",
        "tkm.documents.api:VerifyController",
        "tkm.documents.certificates_api:OfficeCertificateController",
        "tkm.documents.html:VerifyPages",
        "tkm.documents.html:ProgrammeReportPages",
        "tkm.documents.html:OfficePages",
    ),
    nav=(
        NavItem(N_("Programme report"), "/programme-reports", roles=("finance", "auditor"), order=62),
        NavItem(N_("Offices"), "/admin/offices", roles=("admin",), order=90),
    ),
    panels=(
        Panel(
            "documents/_panel.html",
            load="tkm.documents.html:letters_panel",
            roles=("applicant", "reviewer", "approver", "finance", "auditor", "admin"),
            order=20,
        ),
    ),
    startup=("tkm.documents.hooks:startup", "tkm.documents.signing:startup"),
    tasks="tkm.documents.tasks",
    hooks="tkm.documents.hooks",
    checks=(
        ("void letters", "tkm.documents.services:verify_void"),
        ("files against their hashes", "tkm.documents.integrity:verify"),
    ),
)

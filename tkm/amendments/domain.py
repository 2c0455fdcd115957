from tkm.core.domain import Domain, Panel

DOMAIN = Domain(
    name="amendments",
    tables="tkm.amendments.tables",
    routes=(
        "tkm.amendments.api:ApplicationAmendmentsController",
        "tkm.amendments.api:AmendmentController",
        "tkm.amendments.html:AmendmentPages",
    ),
    panels=(
        Panel(
            "amendments/_panel.html",
            load="tkm.amendments.html:amendments_panel",
            roles=("applicant", "reviewer", "approver", "finance", "auditor", "admin"),
            order=25,
        ),
    ),
    hooks="tkm.amendments.hooks",
)

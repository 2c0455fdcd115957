from tkm.core.domain import Domain, Panel

DOMAIN = Domain(
    name="ledger",
    tables="tkm.ledger.tables",
    routes=(
        "tkm.ledger.api:FundsTrailController",
        "tkm.ledger.api:WholeTrailController",
        "tkm.ledger.api:ReturnsController",
        "tkm.ledger.html:FundsTrailPages",
    ),
    panels=(
        Panel(
            "partials/panel.html",
            load="tkm.ledger.html:trail_panel",
            roles=("applicant", "reviewer", "approver", "finance", "auditor", "admin"),
            order=15,
        ),
    ),
    hooks="tkm.ledger.hooks",
    checks=(("funds trail", "tkm.ledger.services:verify"), ("monthly activity", "tkm.ledger.activity:verify")),
)

from tkm.core.domain import Domain

DOMAIN = Domain(
    name="auth",
    tables="tkm.auth.tables",
    routes=("tkm.auth.api:AuthController", "tkm.auth.api:MeController", "tkm.auth.html:AuthPages"),
)

from tkm.core.domain import Domain

DOMAIN = Domain(
    name="programmes",
    tables="tkm.programmes.tables",
    routes=("tkm.programmes.api:TrainingCentreController", "tkm.programmes.api:ProgrammeController"),
    hooks="tkm.programmes.hooks",
)

from tkm.core.domain import Domain

DOMAIN = Domain(
    name="workflow",
    tables="tkm.workflow.tables",
    startup=("tkm.workflow.loader:startup",),
    hooks="tkm.workflow.builtin",
    checks=(("history", "tkm.workflow.history:verify"),),
)

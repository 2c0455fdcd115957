from tkm.core.domain import Domain

DOMAIN = Domain(name="web", routes=("tkm.web.home:home", "tkm.web.home:switch_language"))

from tkm.core.domain import Domain

DOMAIN = Domain(name="regions", routes=("tkm.regions.api:list_regions", "tkm.regions.api:get_region"))

from tkm.disbursement.api import TrancheController

ROUTES = [TrancheController]

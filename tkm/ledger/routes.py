from tkm.ledger.api import FundsTrailController

ROUTES = [FundsTrailController]

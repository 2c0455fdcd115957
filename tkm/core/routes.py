from tkm.core.health import health

ROUTES = [health]

from tkm.auth.api import AuthController, MeController
from tkm.auth.html import AuthPages

ROUTES = [AuthController, MeController, AuthPages]

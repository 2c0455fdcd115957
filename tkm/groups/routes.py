from tkm.groups.api import GroupController

ROUTES = [GroupController]

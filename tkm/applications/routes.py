from tkm.applications.api import ApplicationController, AttachmentController

ROUTES = [ApplicationController, AttachmentController]

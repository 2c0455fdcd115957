from tkm.documents.api import DocumentController, OfficeController, VerifyController
from tkm.documents.html import VerifyPages

ROUTES = [DocumentController, OfficeController, VerifyController, VerifyPages]

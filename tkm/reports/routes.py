from tkm.reports.api import ApplicationReportsController, ReportController

ROUTES = [ApplicationReportsController, ReportController]

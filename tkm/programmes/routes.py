from tkm.programmes.api import ProgrammeController, TrainingCentreController

ROUTES = [TrainingCentreController, ProgrammeController]

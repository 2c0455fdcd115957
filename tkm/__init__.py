"""TKM: grant workflow for the Tenaga Kerja Mandiri programme."""

import os
from pathlib import Path

__version__ = "0.1.0"

#: The repository root: templates/, workflows/ and tkm/static live beside the package.
ROOT = Path(__file__).resolve().parent.parent

# Piccolo finds its engine and tables through this module (also for its own CLI).
os.environ.setdefault("PICCOLO_CONF", "tkm.piccolo_conf")

"""`endpoint-updater`: start, plan and follow endpoint updates from a terminal or a pipeline.

The workflow's shared package lives in lambdas/updater (the functions' deployed layout); the command
line validates and plans with that same code, so lambdas/ goes on the import path here, as the local
runner does.
"""

from __future__ import annotations

import sys
from pathlib import Path

LAMBDAS_DIR = Path(__file__).resolve().parent.parent / "lambdas"
if str(LAMBDAS_DIR) not in sys.path:
    sys.path.insert(0, str(LAMBDAS_DIR))

"""The emulator's one lock.

The emulator changes moto's objects from the Lambda handlers the interpreter runs on background threads,
from boto3 calls of the test or the command line, and from its own settings: every change, and every read
that must see a consistent endpoint, holds this (re-entrant) lock.
"""

from __future__ import annotations

import threading

LOCK = threading.RLock()

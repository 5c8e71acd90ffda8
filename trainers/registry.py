"""Every activity the Python worker serves. Each stage adds its module's activities here."""
from __future__ import annotations

from .embedding import embed_tasks
from .health import probe_python_worker

ACTIVITIES = [
    probe_python_worker,
    embed_tasks,
]

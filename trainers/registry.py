"""Every activity the Python worker serves. Each stage adds its module's activities here."""
from __future__ import annotations

from .cluster import cluster_vectors
from .embedding import embed_tasks
from .evaluate import evaluate_model
from .health import probe_python_worker
from .ocr import ocr_pages
from .training.activities import train_grpo, train_reward, train_sft

ACTIVITIES = [
    probe_python_worker,
    embed_tasks,
    cluster_vectors,
    evaluate_model,
    ocr_pages,
    train_sft,
    train_reward,
    train_grpo,
]

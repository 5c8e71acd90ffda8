"""The model catalog (config/models.json, schema schemas/model-catalog.schema.json).

Every stage resolves model ids through here, so an unknown id fails the same typed way everywhere.
"""
from __future__ import annotations

import json
import os
from functools import lru_cache
from pathlib import Path

from .config import REPO_ROOT
from .errors import typed_failure
from .schemas import validate

DEFAULT_CATALOG_PATH = REPO_ROOT / "config" / "models.json"


def catalog_path() -> Path:
    """LLMLOOP_MODEL_CATALOG overrides the catalog file (same variable as core/catalog.ts)."""
    return Path(os.environ.get("LLMLOOP_MODEL_CATALOG") or DEFAULT_CATALOG_PATH)


@lru_cache(maxsize=4)
def _load(path: str) -> dict:
    return validate("ModelCatalog", json.loads(Path(path).read_text(encoding="utf-8")))


def load_catalog() -> dict:
    """The validated catalog: {version, gpu_classes: [...], models: [...]}."""
    return _load(str(catalog_path()))


def get_model(model_id: str) -> dict:
    """The catalog entry of model_id; UnknownModel (non-retryable) when there is none."""
    for entry in load_catalog()["models"]:
        if entry["id"] == model_id:
            return entry
    known = ", ".join(m["id"] for m in load_catalog()["models"])
    raise typed_failure("UnknownModel", f"model {model_id!r} is not in the catalog ({known})", model_id=model_id)


def get_gpu_class(class_id: str) -> dict:
    for gpu_class in load_catalog()["gpu_classes"]:
        if gpu_class["id"] == class_id:
            return gpu_class
    raise typed_failure("InvalidRequest", f"GPU class {class_id!r} is not in the catalog", gpu_class=class_id)

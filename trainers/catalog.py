"""The model catalog (config/models.json, schema schemas/model-catalog.schema.json).

Every stage resolves model ids through here, so an unknown id fails the same typed way everywhere.
Entries are the pydantic models generated from the schema (trainers/generated/models.py).
"""
from __future__ import annotations

import json
import os
from functools import lru_cache
from pathlib import Path

from .config import REPO_ROOT
from .errors import typed_failure
from .generated.constants import DEFAULT_MODEL_CATALOG_PATH, MODEL_CATALOG_ENV_VAR
from .generated.models import CatalogModel, ModelCatalog
from .schemas import parse


def catalog_path() -> Path:
    """The catalog file, or the one MODEL_CATALOG_ENV_VAR names (schemas/constants.json, as core/catalog.ts)."""
    return Path(os.environ.get(MODEL_CATALOG_ENV_VAR) or REPO_ROOT / DEFAULT_MODEL_CATALOG_PATH)


@lru_cache(maxsize=4)
def _load(path: str) -> ModelCatalog:
    return parse(ModelCatalog, json.loads(Path(path).read_text(encoding="utf-8")))


def load_catalog() -> ModelCatalog:
    """The validated catalog."""
    return _load(str(catalog_path()))


def get_model(model_id: str) -> CatalogModel:
    """The catalog entry of model_id; UnknownModel (non-retryable) when there is none."""
    models = load_catalog().models
    for entry in models:
        if entry.id == model_id:
            return entry
    known = ", ".join(m.id for m in models)
    raise typed_failure("UnknownModel", f"model {model_id!r} is not in the catalog ({known})", model_id=model_id)


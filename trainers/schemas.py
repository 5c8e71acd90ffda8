"""Validation against the same schemas/*.schema.json files the TypeScript side compiles."""
from __future__ import annotations

import json
from functools import lru_cache
from typing import Any, TypeVar

from jsonschema import Draft7Validator
from pydantic import BaseModel
from referencing import Registry, Resource

from .config import REPO_ROOT
from .errors import invalid_payload

SCHEMA_DIR = REPO_ROOT / "schemas"


@lru_cache(maxsize=1)
def _registry_and_names() -> tuple[Registry, dict[str, dict]]:
    registry = Registry()
    names: dict[str, dict] = {}
    for path in sorted(SCHEMA_DIR.glob("*.schema.json")):
        schema = json.loads(path.read_text(encoding="utf-8"))
        registry = registry.with_resource(path.name, Resource.from_contents(schema))
        if any(k in schema for k in ("type", "oneOf", "anyOf")):
            names[schema["title"]] = {"$ref": path.name}
        for name in schema.get("definitions", {}):
            names[name] = {"$ref": f"{path.name}#/definitions/{name}"}
    return registry, names


@lru_cache(maxsize=None)
def _validator(name: str) -> Draft7Validator:
    registry, names = _registry_and_names()
    if name not in names:
        raise KeyError(f"no schema type named {name}")
    return Draft7Validator(names[name], registry=registry)


def schema_problems(name: str, value: Any) -> list[str]:
    errors = sorted(_validator(name).iter_errors(value), key=lambda e: list(e.absolute_path))
    return [f"/{'/'.join(str(p) for p in e.absolute_path)} {e.message}" for e in errors]


def validate(name: str, value: Any) -> Any:
    """Returns value, or raises a non-retryable SchemaValidationError ApplicationError."""
    problems = schema_problems(name, value)
    if problems:
        raise invalid_payload(name, problems)
    return value


Model = TypeVar("Model", bound=BaseModel)


def parse(model: type[Model], value: Any) -> Model:
    """value as the generated model (trainers/generated/models.py) of the schema type of the same name,
    checked first against the schema, which knows every keyword (the model only carries the shape)."""
    return model.model_validate(validate(model.__name__, value))

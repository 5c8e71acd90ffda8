"""The Python side of the contracts generated from schemas/ (scripts/gen-schemas.ts)."""
import json

import pytest
from temporalio.exceptions import ApplicationError

from trainers import catalog
from trainers.config import REPO_ROOT, gpu_task_queue
from trainers.errors import typed_failure
from trainers.generated.models import CatalogModel, TrainingHyperparameters
from trainers.training.preflight import eval_interval, hyperparameters

SCHEMAS = REPO_ROOT / "schemas"


def _hyperparameter_schema() -> dict:
    return json.loads((SCHEMAS / "training.schema.json").read_text())["definitions"]["TrainingHyperparameters"]["properties"]


@pytest.mark.parametrize("stage", ["sft", "reward", "grpo"])
def test_omitted_hyperparameters_take_the_schema_defaults(stage):
    hp = hyperparameters(stage, None)
    assert isinstance(hp, TrainingHyperparameters)
    properties = _hyperparameter_schema()
    for name, schema in properties.items():
        if "default" in schema:
            assert getattr(hp, name) == schema["default"], name
    assert hp.learning_rate == properties["learning_rate"]["x-default-by-stage"][stage]
    assert hp.beta is None and hp.threads is None


def test_given_hyperparameters_win_and_the_manifest_keeps_only_set_ones():
    hp = hyperparameters("sft", {"max_steps": 30, "learning_rate": 0.5, "threads": 2})
    assert (hp.max_steps, hp.learning_rate, hp.threads) == (30, 0.5, 2)
    assert eval_interval(hp) == 3
    dumped = hp.model_dump(exclude_none=True)
    assert "beta" not in dumped and "eval_every" not in dumped and dumped["threads"] == 2


def test_hyperparameters_are_checked_against_the_schema_first():
    with pytest.raises(ApplicationError) as caught:
        hyperparameters("sft", {"max_steps": 0})
    assert caught.value.type == "SchemaValidationError" and caught.value.non_retryable


def test_catalog_entries_are_typed_models(tmp_path, monkeypatch):
    entry = catalog.get_model("smollm2-135m")
    assert isinstance(entry, CatalogModel)
    assert entry.gguf.package and entry.memory_gb.lora > 0 and "lora" in entry.recipes
    raw = json.loads((REPO_ROOT / "config" / "models.json").read_text())
    raw["models"] = [dict(raw["models"][0], id="only-model")]
    path = tmp_path / "models.json"
    path.write_text(json.dumps(raw))
    monkeypatch.setenv("LLMLOOP_MODEL_CATALOG", str(path))
    assert catalog.catalog_path() == path
    assert [m.id for m in catalog.load_catalog().models] == ["only-model"]


def test_error_types_and_queue_names_match_constants_json():
    constants = json.loads((SCHEMAS / "constants.json").read_text())
    for error_type in constants["non_retryable_error_types"]:
        assert typed_failure(error_type, "x").non_retryable, error_type
    assert not typed_failure("LlmTimeout", "x").non_retryable
    assert gpu_task_queue("h100") == "llmloop-gpu-h100"

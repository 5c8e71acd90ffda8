"""The model catalog and the loader every stage uses to get a base model (plus adapter)."""
import json

import pytest
from temporalio.exceptions import ApplicationError

from trainers import catalog
from trainers.config import REPO_ROOT
from trainers.models import load_model_and_tokenizer, load_reward_model
from trainers.schemas import schema_problems


def test_shipped_catalog_is_schema_valid_and_names_the_required_models():
    raw = json.loads((REPO_ROOT / "config" / "models.json").read_text())
    assert schema_problems("ModelCatalog", raw) == []
    repos = {m.get("hf_repo") for m in raw["models"]}
    assert {"Qwen/Qwen2.5-7B-Instruct", "Qwen/Qwen2.5-14B-Instruct", "Qwen/Qwen2.5-32B-Instruct",
            "meta-llama/Meta-Llama-3-8B-Instruct", "meta-llama/Meta-Llama-3-70B-Instruct"} <= repos
    classes = {c["id"] for c in raw["gpu_classes"]}
    for model in raw["models"]:
        assert set(model["gpu_classes"]) <= classes, model["id"]


def test_an_entry_must_name_exactly_one_weight_source():
    raw = json.loads((REPO_ROOT / "config" / "models.json").read_text())
    entry = dict(raw["models"][1], local_path="/models/x")
    assert schema_problems("CatalogModel", entry)


def test_unknown_model_is_a_typed_non_retryable_failure():
    with pytest.raises(ApplicationError) as err:
        catalog.get_model("gpt-17")
    assert err.value.type == "UnknownModel" and err.value.non_retryable


def test_missing_gguf_fails_typed_before_loading(tmp_path, monkeypatch):
    raw = json.loads((REPO_ROOT / "config" / "models.json").read_text())
    raw["models"][0]["gguf"]["file"] = "absent.gguf"
    path = tmp_path / "models.json"
    path.write_text(json.dumps(raw))
    monkeypatch.setenv("LLMLOOP_MODEL_CATALOG", str(path))
    with pytest.raises(ApplicationError) as err:
        load_model_and_tokenizer("smollm2-135m")
    assert err.value.type == "ArtifactNotFound" and err.value.non_retryable


@pytest.mark.parametrize("load", [load_model_and_tokenizer, load_reward_model])
def test_weights_missing_from_the_offline_cache_fail_typed(load, tmp_path, monkeypatch):
    raw = json.loads((REPO_ROOT / "config" / "models.json").read_text())
    entry = raw["models"][0]
    del entry["gguf"]
    entry["hf_repo"] = "llmloop-test/not-in-the-cache"
    path = tmp_path / "models.json"
    path.write_text(json.dumps(raw))
    monkeypatch.setenv("LLMLOOP_MODEL_CATALOG", str(path))
    with pytest.raises(ApplicationError) as err:
        load(entry["id"])
    assert err.value.type == "ArtifactNotFound" and err.value.non_retryable


def test_smollm2_loads_from_its_gguf_with_its_own_chat_template():
    model, tokenizer = load_model_and_tokenizer("smollm2-135m")
    assert not model.training
    assert "<|im_start|>" in tokenizer.chat_template
    prompt = tokenizer.apply_chat_template([{"role": "user", "content": "What is the capital of France?"}],
                                           add_generation_prompt=True, return_tensors="pt", return_dict=True)
    out = model.generate(**prompt, max_new_tokens=8, do_sample=False)
    assert "Paris" in tokenizer.decode(out[0][prompt["input_ids"].shape[1]:])

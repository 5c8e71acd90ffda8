"""The dataset stage's exports load as they are: TRL formats through `datasets.load_dataset("json")`,
LLaMA-Factory files through their dataset_info.json, checked against the fields LLaMA-Factory documents
in data/README.md. The dataset is built for real by `llmloop dataset build` from parsed corpus documents."""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("LLMLOOP_SHARED_DIR", REPO.parent / "shared"))
# bin/llmloop picks the project's Node (.venv) when the bootstrap installed one, else the system's.
LLMLOOP = REPO / "bin" / "llmloop"
CLI = REPO / "dist" / "cli" / "main.js"

# LLaMA-Factory data/README.md: the keys of a dataset description, of `columns` and of `tags`.
DATASET_INFO_KEYS = {"hf_hub_url", "ms_hub_url", "script_url", "file_name", "formatting", "ranking", "subset", "folder", "columns", "tags"}
COLUMN_KEYS = {"prompt", "query", "response", "history", "messages", "system", "tools", "images", "chosen", "rejected", "kto_tag"}
TAG_KEYS = {"role_tag", "content_tag", "user_tag", "assistant_tag", "observation_tag", "function_tag", "system_tag"}
TAG_DEFAULTS = {"role_tag": "from", "content_tag": "value", "user_tag": "human", "assistant_tag": "gpt"}
ROW_KEYS = {"id", "task_type", "language", "split", "labels", "source_sha256", "provenance"}
CORPUS = ["docx/docling-word_sample.docx", "docx/docling-unit_test_headers_numbered.docx", "pptx/docling-powerpoint_sample.pptx",
          "pptx/unstructured-sample-presentation.pptx", "xlsx/chatchat-langchain-ChatGLM_closed.xlsx", "xlsx/docling-xlsx_01.xlsx"]


@pytest.fixture(scope="module")
def dataset_dir(tmp_path_factory) -> Path:
    if not CLI.exists():
        pytest.skip("dist/ is not built (npx tsc -p tsconfig.json)")
    root = tmp_path_factory.mktemp("dataset")
    env = {**os.environ, "LLMLOOP_DATA_DIR": str(root / "data"), "PATH": f"{REPO / '.venv' / 'bin'}:{os.environ['PATH']}"}
    inputs = [str(SHARED / "corpus" / "inputs" / p) for p in CORPUS]
    subprocess.run([str(LLMLOOP), "parse", *inputs, "--out", str(root / "parsed")], check=True, env=env, cwd=REPO, capture_output=True)
    subprocess.run([str(LLMLOOP), "dataset", "build", str(root / "parsed"), "--out", str(root / "out"), "--seed", "5"], check=True, env=env, cwd=REPO, capture_output=True)
    return root / "out"


def load_jsonl(files: dict[str, str], cache: Path):
    from datasets import load_dataset

    return load_dataset("json", data_files={k: v for k, v in files.items() if Path(v).stat().st_size > 0}, cache_dir=str(cache))


def test_trl_exports_load_with_datasets(dataset_dir: Path, tmp_path: Path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    manifest = json.loads((dataset_dir / "manifest.json").read_text())
    for fmt, required in {"sft": {"messages"}, "preference": {"prompt", "chosen", "rejected"}, "grpo": {"prompt", "reference_answer"}}.items():
        files = {split: str(dataset_dir / "trl" / fmt / f"{split}.jsonl") for split in ("train", "validation", "test")}
        ds = load_jsonl(files, tmp_path / fmt)
        assert ds["train"].num_rows > 0
        for split, part in ds.items():
            assert required | ROW_KEYS <= set(part.column_names)
            assert set(part["split"]) == {split}
        rows = sum(e["rows"] for e in manifest["exports"] if e["format"] == f"trl-{fmt}")
        assert sum(part.num_rows for part in ds.values()) == rows
    sft = load_jsonl({"train": str(dataset_dir / "trl" / "sft" / "train.jsonl")}, tmp_path / "sft2")["train"]
    assert all(m[0]["role"] == "user" and m[1]["role"] == "assistant" for m in sft["messages"])
    classification = sft.filter(lambda r: r["task_type"] == "classification")
    assert classification.num_rows > 0 and all(len(labels) >= 2 for labels in classification["labels"])
    assert set(sft["language"]) <= {"zh", "en"}


def test_stats_prints_the_manifest(dataset_dir: Path):
    manifest = json.loads((dataset_dir / "manifest.json").read_text())
    out = subprocess.run([str(LLMLOOP), "dataset", "stats", str(dataset_dir / "manifest.json")], check=True, cwd=REPO, capture_output=True, text=True).stdout
    assert manifest["version"] in out
    assert f"generated {manifest['counts']['generated']} = accepted {manifest['counts']['accepted']}" in out
    assert all(e["file"] in out for e in manifest["exports"])


def test_no_document_in_two_splits(dataset_dir: Path):
    split_of: dict[str, set[str]] = {}
    for path in (dataset_dir / "trl").rglob("*.jsonl"):
        for line in path.read_text().splitlines():
            row = json.loads(line)
            split_of.setdefault(row["source_sha256"], set()).add(row["split"])
    assert split_of and all(len(s) == 1 for s in split_of.values())


def test_llamafactory_dataset_info_matches_documented_fields(dataset_dir: Path, tmp_path: Path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    lf = dataset_dir / "llamafactory"
    info = json.loads((lf / "dataset_info.json").read_text())
    assert info
    for name, entry in info.items():
        assert set(entry) <= DATASET_INFO_KEYS, name
        assert entry.get("formatting", "alpaca") in {"alpaca", "sharegpt"}
        assert set(entry.get("columns", {})) <= COLUMN_KEYS and set(entry.get("tags", {})) <= TAG_KEYS
        path = lf / entry["file_name"]
        assert path.exists(), name
        if path.stat().st_size == 0:
            continue
        rows = load_jsonl({"train": str(path)}, tmp_path / name)["train"]
        columns = {**({"prompt": "instruction", "query": "input", "response": "output"} if entry.get("formatting", "alpaca") == "alpaca" else {"messages": "conversations"}), **entry.get("columns", {})}
        if entry.get("ranking"):
            assert {"chosen", "rejected"} <= set(columns)
        for key, column in columns.items():
            if key in {"history", "system", "tools", "images", "kto_tag"} or (entry.get("ranking") and key == "response"):
                continue
            assert column in rows.column_names, f"{name}: column {column} ({key}) missing"
        if entry.get("formatting") == "sharegpt":
            tags = {**TAG_DEFAULTS, **entry.get("tags", {})}
            for conversation in rows[columns["messages"]]:
                roles = [m[tags["role_tag"]] for m in conversation]
                assert roles[0::2] == [tags["user_tag"]] * len(roles[0::2]) and roles[1::2] == [tags["assistant_tag"]] * len(roles[1::2])
                assert all(isinstance(m[tags["content_tag"]], str) and m[tags["content_tag"]] for m in conversation)
        elif not entry.get("ranking"):
            assert all(isinstance(v, str) and v for v in rows[columns["prompt"]]) and all(isinstance(v, str) and v for v in rows[columns["response"]])

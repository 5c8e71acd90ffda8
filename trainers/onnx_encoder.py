"""ONNX Runtime inference for sentence-transformers models of the usual shape (Transformer, then mean
Pooling, then optionally Normalize), such as all-MiniLM-L6-v2.

Why: the request-time embedding is on the critical path of every `model: "auto"` request. Eager
PyTorch spends most of a short prompt's time in per-operator overhead (about 13 ms for MiniLM on one
CPU thread here), ONNX Runtime runs the same graph in about 4 ms, and its sessions may be called from
several threads at once, so the server no longer serialises requests behind one lock.

The graph is exported once from the very weights sentence-transformers loaded (no download, no
second copy of the model to keep in sync) and cached under `$LLMLOOP_DATA_DIR/cache/onnx/`, keyed by
the weights, the model config and the export recipe. Tokenisation stays sentence-transformers' own,
and every new session is checked against the PyTorch model on probe texts (English, Chinese, a long
truncated one and a padded batch) before it is used: a model whose export differs is refused.
"""
from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path

import numpy as np

from .config import data_dir

# Bump when the exported graph changes, so cached exports of older recipes are not reused.
EXPORT_RECIPE = "mean-pool-l2-v1"
PARITY_TOLERANCE = 1e-4
_FEATURES = ("input_ids", "attention_mask", "token_type_ids")
_PARITY_PROBES = (
    ["Summarize the quarterly report in two sentences."],
    ["总结这份季度报告的要点。"],
    ["a prompt long enough to be truncated at the model's maximum sequence length " * 40],
    ["short", "a much longer second text, so the first one is padded in this batch"],
)


class UnsupportedForOnnx(Exception):
    """The model's modules are not the Transformer + mean Pooling (+ Normalize) shape exported here."""


def check_supported(st_model) -> None:
    from sentence_transformers.sentence_transformer.modules import Normalize, Pooling, Transformer

    modules = list(st_model)
    if len(modules) < 2 or not isinstance(modules[0], Transformer) or not isinstance(modules[1], Pooling):
        raise UnsupportedForOnnx(f"modules are {[type(m).__name__ for m in modules]}, not Transformer + Pooling")
    if any(not isinstance(m, Normalize) for m in modules[2:]):
        raise UnsupportedForOnnx(f"modules after pooling are {[type(m).__name__ for m in modules[2:]]}")
    if modules[1].pooling_mode != "mean":
        raise UnsupportedForOnnx(f"pooling is '{modules[1].pooling_mode}', only mean pooling is exported")


def _export_key(model_dir: Path) -> str:
    digest = hashlib.sha256(EXPORT_RECIPE.encode())
    for name in ("config.json", "model.safetensors", "pytorch_model.bin"):
        part = model_dir / name
        if part.exists():
            digest.update(name.encode())
            with part.open("rb") as stream:
                for chunk in iter(lambda: stream.read(1 << 20), b""):
                    digest.update(chunk)
    return digest.hexdigest()[:32]


def _export(st_model, features: dict, destination: Path) -> None:
    import torch

    class MeanPooledUnitVectors(torch.nn.Module):
        def __init__(self, transformer: torch.nn.Module):
            super().__init__()
            self.transformer = transformer

        def forward(self, input_ids, attention_mask, token_type_ids):
            hidden = self.transformer(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, dim=-1)

    graph = MeanPooledUnitVectors(st_model[0].auto_model).eval()
    axes = {name: {0: "batch", 1: "tokens"} for name in _FEATURES}
    destination.parent.mkdir(parents=True, exist_ok=True)
    partial = destination.with_suffix(f".{os.getpid()}.partial")
    # The TorchScript exporter traces the padded probe batch, so the padding path is in the graph.
    with torch.no_grad():
        torch.onnx.export(graph, tuple(features[name] for name in _FEATURES), str(partial), input_names=list(_FEATURES),
                          output_names=["embedding"], dynamic_axes={**axes, "embedding": {0: "batch"}}, opset_version=17, dynamo=False)
    partial.replace(destination)  # atomic: concurrent exporters write the same bytes, readers never see half a file


class OnnxEncoder:
    """Encodes like `SentenceTransformer.encode(..., normalize_embeddings=True)`, through ONNX Runtime."""

    def __init__(self, st_model, model_dir: str | Path, threads: int):
        import onnxruntime

        check_supported(st_model)
        self._st_model = st_model
        # Fast tokenizers are not safe to call from several threads; sessions are.
        self._tokenize_lock = threading.Lock()
        path = data_dir() / "cache" / "onnx" / f"{_export_key(Path(model_dir))}.onnx"
        if not path.exists():
            _export(st_model, self._features(_PARITY_PROBES[-1], "pt"), path)
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        self._session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self._check_parity()

    def _features(self, texts: list[str], tensor_type: str) -> dict:
        with self._tokenize_lock:
            features = self._st_model.preprocess(texts)
        if "token_type_ids" not in features:
            import torch

            features["token_type_ids"] = torch.zeros_like(features["input_ids"])
        return {name: features[name] if tensor_type == "pt" else features[name].numpy().astype(np.int64) for name in _FEATURES}

    def _check_parity(self) -> None:
        for texts in _PARITY_PROBES:
            expected = self._st_model.encode(texts, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)
            difference = float(np.abs(self.encode(texts, len(texts)) - expected).max())
            if difference > PARITY_TOLERANCE:
                raise UnsupportedForOnnx(f"the ONNX export differs from the PyTorch model by {difference:.2e} (> {PARITY_TOLERANCE})")

    def encode(self, texts: list[str], batch_size: int) -> np.ndarray:
        # Longest first, as sentence-transformers does, so each batch pads little.
        order = np.argsort([-len(t) for t in texts], kind="stable")
        rows: list[np.ndarray] = []
        for start in range(0, len(texts), batch_size):
            batch = [texts[i] for i in order[start : start + batch_size]]
            rows.append(self._session.run(None, self._features(batch, "np"))[0])
        vectors = np.concatenate(rows).astype(np.float32, copy=False)
        return vectors[np.argsort(order, kind="stable")]

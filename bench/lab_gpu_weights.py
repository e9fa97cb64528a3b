"""Real weights for the lab on the GPU machine, which has no Hub and no model packages.

The two real models the project can install (SmolLM2-135M-Instruct as a Q4_1 GGUF, the MiniLM
sentence encoder) are too large to travel in one device call (64 MiB), so the lead sends them in
pieces in consecutive calls (the machine keeps ignored folders between calls while it is warm):
the GGUF in two parts and MiniLM saved in float16. This script joins them and prepares both
folders the way the lab does on a Space (``backends.prepare_smollm2``: the GGUF dequantised once
into a plain folder with the lab's sampling defaults; MiniLM back to float32), then prints the
environment to point the lab at them:

    python3 bench/lab_gpu_weights.py --gguf-parts .gpuw2/smol.part1 .gpuw3/smol.part2 \\
        --minilm .gpuw/minilm --out /tmp/lab-weights
    export LAB_GPU_MODEL=/tmp/lab-weights/smollm2 LAB_EMBEDDING_MODEL=/tmp/lab-weights/minilm

Needs the ``gguf`` package (sent as a wheel). Here: ``.venv/bin/python bench/lab_gpu_weights.py
--gguf-parts FILE --minilm FOLDER --out DIR`` checks the same steps on the CPU.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from demos.lab.backends import prepare_smollm2  # noqa: E402
from demos.lab.config import SMOLLM2_GGUF_NAME  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--gguf-parts", type=Path, nargs="+", required=True)
    parser.add_argument("--minilm", type=Path, required=True, help="MiniLM folder (any dtype)")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()

    from safetensors.torch import load_file, save_file

    args.out.mkdir(parents=True, exist_ok=True)
    gguf = args.out / "gguf" / SMOLLM2_GGUF_NAME
    gguf.parent.mkdir(exist_ok=True)
    with gguf.open("wb") as joined:
        for part in args.gguf_parts:
            with part.open("rb") as piece:
                shutil.copyfileobj(piece, joined)
    smollm2 = prepare_smollm2(args.out / "smollm2", gguf=gguf)
    minilm = args.out / "minilm"
    shutil.copytree(args.minilm, minilm, dirs_exist_ok=True)
    weights = load_file(str(minilm / "model.safetensors"))
    save_file(
        {name: tensor.float().contiguous() for name, tensor in weights.items()},
        str(minilm / "model.safetensors"),
        metadata={"format": "pt"},
    )
    print(f"export LAB_GPU_MODEL={smollm2} LAB_EMBEDDING_MODEL={minilm}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

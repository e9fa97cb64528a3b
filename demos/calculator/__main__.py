"""Command line: ``python -m demos.calculator --help``.

Examples:
  python -m demos.calculator --friend
  python -m demos.calculator --model Llama-3.2-3B --examples 50000 --tokens-per-example 256 \\
      --epochs 5 --method lora --gpu T4 --deadline-days 10
  python -m demos.calculator --parameters 125M --examples 20000 --tokens-per-example 200 \\
      --epochs 3 --seq 256 --batch 16 --method lora --json
  python -m demos.calculator --measured --seconds-per-batch 0.4 --examples 20000 --epochs 3 --batch 16
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys

from demos.calculator import tables
from demos.calculator.estimate import InvalidInputError
from demos.calculator.fields import FRIEND_SCENARIO, Fields, estimate_fields
from demos.calculator.report import text_report


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m demos.calculator",
        description="Estimate GPU hours, memory and a platform plan (Colab, Kaggle, paid) for a training or inference job.",
        epilog=__doc__.split("Examples:", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--friend",
        action="store_true",
        help="the friend's scenario of lesson 3 (other options override it)",
    )
    p.add_argument(
        "--measured", action="store_true", help="way in (a): steps x seconds per batch you timed"
    )
    p.add_argument(
        "--model", help="built-in model key, a local model folder, or a Hub ID (owner/name)"
    )
    p.add_argument("--parameters", help="parameter count, e.g. 3B, 125M, 3e9 (overrides --model's)")
    p.add_argument("--examples", type=float, help="number of training examples")
    p.add_argument(
        "--tokens-per-example",
        type=float,
        help="average tokens per example (default: the sequence length)",
    )
    p.add_argument(
        "--tokens",
        type=float,
        dest="dataset_tokens",
        help="dataset size in tokens, instead of examples",
    )
    p.add_argument("--epochs", type=float, help="passes over the data (default 1)")
    p.add_argument(
        "--seq", type=float, dest="sequence_length", help="sequence length in tokens (default 512)"
    )
    p.add_argument("--batch", type=float, dest="batch_size", help="batch size (default 8)")
    p.add_argument("--method", help="inference, full, lora or qlora (default lora)")
    p.add_argument("--precision", help="fp32, mixed (fp16/bf16), int8 or 4bit (default mixed)")
    p.add_argument("--optimizer", help="adamw, adamw_8bit or sgd (default adamw)")
    p.add_argument(
        "--checkpointing",
        action="store_true",
        dest="gradient_checkpointing",
        help="gradient checkpointing on",
    )
    p.add_argument("--lora-rank", type=float, help="LoRA rank r (default 16)")
    p.add_argument("--gpu", help=f"GPU: {', '.join(tables.gpus())} (default T4)")
    p.add_argument("--mfu", type=float, help="model FLOPs utilisation 0-1 (default: the GPU's)")
    p.add_argument("--deadline-days", type=float, help="days until the deadline")
    p.add_argument(
        "--seconds-per-batch", type=float, help="measured seconds per batch (with --measured)"
    )
    p.add_argument(
        "--steps",
        type=float,
        help="optimizer steps (with --measured; else examples/batch x epochs)",
    )
    p.add_argument("--json", action="store_true", help="print the estimate as JSON")
    p.add_argument(
        "--list", action="store_true", help="list the built-in GPUs, models and platforms"
    )
    return p


def fields_from_args(args: argparse.Namespace) -> Fields:
    base = FRIEND_SCENARIO if args.friend else Fields()
    overrides = {}
    for name in (
        "model",
        "parameters",
        "examples",
        "tokens_per_example",
        "dataset_tokens",
        "epochs",
        "sequence_length",
        "batch_size",
        "method",
        "precision",
        "optimizer",
        "lora_rank",
        "gpu",
        "mfu",
        "deadline_days",
        "seconds_per_batch",
        "steps",
    ):
        value = getattr(args, name)
        if value is not None:
            overrides[name] = value
    if args.gradient_checkpointing:
        overrides["gradient_checkpointing"] = True
    if args.measured:
        overrides["mode"] = "measured"
    if "parameters" in overrides and "model" not in overrides and args.friend:
        overrides["model"] = ""
    return dataclasses.replace(base, **overrides)


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.list:
        print("GPUs:", ", ".join(tables.gpus()))
        print("Models:", ", ".join(tables.models()))
        print("Platforms:", ", ".join(tables.platforms()))
        return 0
    try:
        result = estimate_fields(fields_from_args(args))
    except InvalidInputError as error:
        print(f"error: {error.field}: {error}", file=sys.stderr)
        return 2
    print(json.dumps(result.to_dict(), indent=2) if args.json else text_report(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

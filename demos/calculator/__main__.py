"""Command line: ``python -m demos.calculator --help``. Its options come from fields.FIELDS.

Examples:
  python -m demos.calculator --friend
  python -m demos.calculator --model Llama-3.2-3B --examples 50000 --tokens-per-example 256 \\
      --epochs 5 --method lora --gpu T4 --deadline-days 10
  python -m demos.calculator --parameters 125M --examples 20000 --tokens-per-example 200 \\
      --epochs 3 --seq 256 --batch 16 --method lora --json
  python -m demos.calculator --model t5-base --task seq2seq --examples 100000 --target-length 64
  python -m demos.calculator --model Llama-3.1-8B --method full --gpu H100 --gpus 8 --parallelism fsdp \\
      --examples 50000 --tokens-per-example 512
  python -m demos.calculator --measured --seconds-per-batch 0.4 --examples 20000 --epochs 3 --batch 16
  python -m demos.calculator --friend --link      # the address that reopens this estimate in the Space
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from urllib.parse import urlencode

from demos.calculator import tables
from demos.calculator.estimate import InvalidInputError
from demos.calculator.fields import FIELDS, FRIEND_SCENARIO, Fields, estimate_fields, to_query
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
    for f in FIELDS:
        if f.name == "mode":
            continue
        flags = ["--" + f.name.replace("_", "-"), *f.cli]
        help_text = f.help.replace("%", "%%")
        if f.name == "gpu":
            help_text += f" Known: {', '.join(tables.gpus())}."
        if f.kind == "bool":
            p.add_argument(*flags, dest=f.name, action="store_true", default=None, help=help_text)
        else:
            # Every value is read as text and parsed by fields.parse_value, exactly as the form's,
            # the link's and the API's values are: the same checks, the same messages.
            p.add_argument(*flags, dest=f.name, metavar=f.url.upper(), help=help_text)
    p.add_argument("--json", action="store_true", help="print the estimate as JSON")
    p.add_argument(
        "--link", action="store_true", help="print the ?tab=calculator&... link for the estimate"
    )
    p.add_argument(
        "--list", action="store_true", help="list the built-in GPUs, models and platforms"
    )
    return p


def fields_from_args(args: argparse.Namespace) -> Fields:
    base = FRIEND_SCENARIO if args.friend else Fields()
    overrides = {
        f.name: getattr(args, f.name)
        for f in FIELDS
        if f.name != "mode" and getattr(args, f.name) is not None
    }
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
    fields = fields_from_args(args)
    try:
        # The command line is run by the machine's own user: any local model folder is fine here.
        result = estimate_fields(fields, local_anywhere=True)
    except InvalidInputError as error:
        print(f"error: {error.field}: {error}", file=sys.stderr)
        return 2
    if args.link:
        print("?" + urlencode({"tab": "calculator", **to_query(fields)}))
        return 0
    print(json.dumps(result.to_dict(), indent=2) if args.json else text_report(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Train a learned point judge for the lab (tried, not adopted: see bench/lab_point_judge.py).

MiniLM read as a cross-encoder (a rubric point, the learner's nearest sentences) -> covered /
partial / missing, with a LoRA adapter (peft) or in full.

Self-contained (torch, transformers, peft; no gradio, no network), so it runs on the device
machine. It trains one model per held-out round (leave one round out) and writes every held-out
prediction, for ``bench/lab_point_judge.py --score``. ``--smoke`` is a tiny CPU run.

    python bench/lab_point_judge_train.py --data D.jsonl --model MINILM_DIR --out DIR
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import time
from pathlib import Path

import torch
from peft import LoraConfig, get_peft_model
from transformers import AutoModelForSequenceClassification, AutoTokenizer

LABELS = ["missing", "partial", "covered"]


def first_text(row: dict, variant: str) -> str:
    return f"{row['hint']}. {row['point']}" if variant == "hint" else row["point"]


def build(model_dir: str, config: dict, device: str):
    model = AutoModelForSequenceClassification.from_pretrained(
        model_dir, num_labels=3, dtype=torch.float32
    )
    if config["lora"]:
        lora = LoraConfig(
            task_type="SEQ_CLS",
            r=config["r"],
            lora_alpha=2 * config["r"],
            lora_dropout=0.1,
            target_modules=config["targets"],
        )
        model = get_peft_model(model, lora)
    return model.to(device)


def batches(rows, tokenizer, variant, size, device, shuffle, max_length):
    order = list(range(len(rows)))
    if shuffle:
        random.shuffle(order)
    for start in range(0, len(order), size):
        chunk = [rows[i] for i in order[start : start + size]]
        encoded = tokenizer(
            [first_text(r, variant) for r in chunk],
            [r["text"] for r in chunk],
            truncation="only_second",
            max_length=max_length,
            padding=True,
            return_tensors="pt",
        ).to(device)
        labels = torch.tensor([LABELS.index(r["label"]) for r in chunk], device=device)
        yield encoded, labels


def train(rows, model_dir, config, device, seed):
    random.seed(seed)
    torch.manual_seed(seed)
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = build(model_dir, config, device)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=config["lr"], weight_decay=0.01)
    steps = config["epochs"] * math.ceil(len(rows) / config["batch"])
    warm = max(1, steps // 10)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min((s + 1) / warm, max(0.0, (steps - s) / max(1, steps - warm)))
    )
    model.train()
    for _ in range(config["epochs"]):
        for encoded, labels in batches(
            rows, tokenizer, config["variant"], config["batch"], device, True, config["max_length"]
        ):
            with torch.autocast(device_type=device, dtype=torch.bfloat16, enabled=device == "cuda"):
                loss = torch.nn.functional.cross_entropy(model(**encoded).logits.float(), labels)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            optimizer.step()
            schedule.step()
            optimizer.zero_grad()
    model.eval()
    return model, tokenizer


@torch.inference_mode()
def predict(model, tokenizer, rows, config, device):
    out = []
    for encoded, _ in batches(
        rows, tokenizer, config["variant"], 64, device, False, config["max_length"]
    ):
        with torch.autocast(device_type=device, dtype=torch.bfloat16, enabled=device == "cuda"):
            probs = model(**encoded).logits.float().softmax(-1)
        out += probs.tolist()
    return out


# The settings run (2026-12-02, one H200): their leave-one-round-out figures are in
# bench/results/lab_point_judge.md.
LORA = dict(lora=True, r=16, targets=["query", "key", "value", "dense"], max_length=320)
CONFIGS = {
    "lora16-hint": {**LORA, "lr": 5e-4, "epochs": 8, "batch": 16, "variant": "hint"},
    "fast-lora16-plain": {**LORA, "lr": 8e-4, "epochs": 5, "batch": 32, "variant": "plain"},
    "fast-full-plain": dict(
        lora=False, lr=6e-5, epochs=4, batch=32, variant="plain", max_length=320
    ),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", nargs="+", required=True)
    parser.add_argument("--model", required=True)
    parser.add_argument("--out", default=os.environ.get("OUT", "."))
    parser.add_argument("--configs", default=",".join(CONFIGS))
    parser.add_argument("--smoke", action="store_true")
    args = parser.parse_args()
    device = "cuda" if torch.cuda.is_available() else "cpu"
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    print("device", device, torch.cuda.get_device_name(0) if device == "cuda" else "")
    for data in args.data:
        rows = [json.loads(line) for line in open(data)]
        ids = range(len(rows))  # predictions are keyed by the row's place in the file
        if args.smoke:
            ids = [*range(40), *[i for i, r in enumerate(rows) if r["group"] == "round12"][:20]]
        tag = Path(data).stem
        groups = sorted({rows[i]["group"] for i in ids if rows[i]["group"].startswith("round")})
        for name in args.configs.split(","):
            config = {**CONFIGS[name], **({"epochs": 1} if args.smoke else {})}
            started = time.time()
            preds: dict[int, list[float]] = {}
            for group in groups:
                test = [i for i in ids if rows[i]["group"] == group]
                trained = [rows[i] for i in ids if rows[i]["group"] != group]
                model, tok = train(trained, args.model, config, device, 0)
                held = [rows[i] for i in test]
                preds.update(zip(test, predict(model, tok, held, config, device)))
            right = sum(
                LABELS[max(range(3), key=p.__getitem__)] == rows[i]["label"]
                for i, p in preds.items()
            )
            print(
                f"{tag} {name}: {right}/{len(preds)} = {right / len(preds):.1%} ({time.time() - started:.0f} s)",
                flush=True,
            )
            (out / f"loro-{tag}-{name}.json").write_text(json.dumps(preds))


if __name__ == "__main__":
    main()

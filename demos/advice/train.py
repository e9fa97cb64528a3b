"""Fine-tune a classifier: advice or venting? Lesson 4's worked example, as a real script.

    python -m demos.advice.train --output models/advice-minilm
    accelerate launch --mixed_precision bf16 --num_processes 2 -m demos.advice.train ...

AutoModelForSequenceClassification (one output per label in the data: advice, venting and,
when the data has them, neither) from a Hub ID or a folder, a tokenizer, a DataLoader, and the
raw five-step loop (zero the gradients, forward, loss, backward, step) with AdamW, warmup then
linear decay, and gradient clipping. It evaluates each epoch, saves a checkpoint each epoch
(``--resume`` continues after a lost session), then calibrates the confidences (temperature
scaling on the validation posts), tests on the template test split and, separately, on the
free-written posts, writes a model card, and can push to the Hub. accelerate handles the device,
mixed precision and several GPUs; peft adds LoRA.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from demos.advice import calibration
from demos.advice.config import public_ref, settings
from demos.advice.dataset import (
    DatasetError,
    Posts,
    free_written_eval,
    load_posts,
    parse_label_map,
)

ProgressCallback = Callable[[float, str], Any]


class TrainingStopped(Exception):
    """Raised inside the loop when the caller asked to stop (time limit or a Stop button)."""


@dataclass
class TrainConfig:
    """Everything one run needs; the command-line flags map one to one onto these fields."""

    model: str = field(default_factory=lambda: settings().base_model)
    output: str = field(default_factory=lambda: settings().output_dir)
    dataset: str | None = None
    text_column: str = "text"
    label_column: str = "label"
    split_column: str = "split"
    label_map: str | None = None
    free_eval: bool = True
    baseline: bool = True
    template_share: float = 1.0
    class_weights: str = "none"
    group_by_length: bool = True
    epochs: int = 3
    batch_size: int = 16
    learning_rate: float = 5e-5
    weight_decay: float = 0.01
    warmup_ratio: float = 0.1
    max_grad_norm: float = 1.0
    max_length: int = 96
    seed: int = 42
    freeze_embeddings: bool = True
    freeze_layers: int = 0
    truncation_side: str = "left"
    lora: bool = False
    lora_r: int = 16
    lora_alpha: int = 32
    mixed_precision: str = "no"
    resume: bool = False
    push_to_hub: str | None = None
    time_limit_s: float | None = None
    train_repeat: int = 1
    max_train_samples: int | None = None
    quiet: bool = False
    checkpoints: bool = True
    progress_file: str | None = None
    stop_with_parent: bool = False


@dataclass
class TrainResult:
    output_dir: str
    epochs_done: int
    history: list[dict] = field(default_factory=list)
    label_names: list[str] = field(default_factory=list)
    test_accuracy: float | None = None
    test_posts: int = 0
    confusion_matrix: list[list[int]] | None = None
    free_written_accuracy: float | None = None
    free_written_posts: int = 0
    free_written_confusion_matrix: list[list[int]] | None = None
    free_written_zero_shot_accuracy: float | None = None
    calibration: dict | None = None
    samples_per_second: float = 0.0
    wall_time_s: float = 0.0
    cpu_time_s: float = 0.0  # CPU time of this process; with one thread, its wall time when idle
    stopped_early: bool = False
    num_processes: int = 1
    device: str = "cpu"


def confusion_matrix(predictions: list[int], labels: list[int], num_labels: int) -> list[list[int]]:
    """Rows: true label; columns: predicted label (the model's label order)."""
    matrix = [[0] * num_labels for _ in range(num_labels)]
    for predicted, true in zip(predictions, labels):
        matrix[true][predicted] += 1
    return matrix


def _batches(tokenizer, texts: list[str], labels: list[int], config: TrainConfig, shuffle: bool):
    """A DataLoader of tokenised posts, padded per batch (short posts stay short)."""
    import torch
    from torch.utils.data import DataLoader

    # Posts end with the question or the sigh: when a post is too long, drop its beginning.
    tokenizer.truncation_side = config.truncation_side
    encoded = tokenizer(texts, truncation=True, max_length=config.max_length) if texts else {}
    rows = [
        (torch.tensor(ids), torch.tensor(label))
        for ids, label in zip(encoded.get("input_ids", []), labels)
    ]
    pad_id = tokenizer.pad_token_id or 0

    def collate(batch: list[tuple]) -> dict:
        # Padding with tensor ops, not tokenizer.pad: on a GPU the Python side must keep up.
        ids = torch.nn.utils.rnn.pad_sequence([row[0] for row in batch], True, pad_id)
        lengths = torch.tensor([len(row[0]) for row in batch])
        mask = (torch.arange(ids.shape[1])[None, :] < lengths[:, None]).long()
        return {
            "input_ids": ids,
            "attention_mask": mask,
            "labels": torch.stack([r[1] for r in batch]),
        }

    generator = torch.Generator().manual_seed(config.seed)
    if not config.group_by_length:
        return DataLoader(
            rows,
            batch_size=config.batch_size,
            shuffle=shuffle,
            collate_fn=collate,
            generator=generator,
        )
    lengths = [len(row[0]) for row in rows]
    if not shuffle:  # evaluation: the order does not matter, so shortest first, least padding
        rows = [rows[i] for i in sorted(range(len(rows)), key=lengths.__getitem__)]
        return DataLoader(rows, batch_size=config.batch_size, collate_fn=collate)
    sampler = LengthGroupedBatches(lengths, config.batch_size, generator)
    return DataLoader(rows, batch_sampler=sampler, collate_fn=collate)


class LengthGroupedBatches:
    """Batches of posts of about the same length, in a new random order every epoch.

    A batch is padded to its longest post: random batches of posts from 5 to 64 tokens pad to
    about 63 for an average of 41, so a third of the work is padding. Shuffling, then sorting
    each group of 50 batches by length (what transformers' Trainer calls ``group_by_length``)
    keeps the padding small while every epoch still sees the posts in another order.
    """

    def __init__(self, lengths: list[int], batch_size: int, generator, group: int = 50):
        self.lengths, self.batch_size = lengths, batch_size
        self.generator, self.group = generator, group

    def __iter__(self):
        import torch

        order = torch.randperm(len(self.lengths), generator=self.generator).tolist()
        size = self.batch_size * self.group
        batches: list[list[int]] = []
        for start in range(0, len(order), size):
            chunk = sorted(order[start : start + size], key=self.lengths.__getitem__)
            batches += [
                chunk[i : i + self.batch_size] for i in range(0, len(chunk), self.batch_size)
            ]
        shuffled = torch.randperm(len(batches), generator=self.generator).tolist()
        return iter([batches[i] for i in shuffled])

    def __len__(self) -> int:
        return -(-len(self.lengths) // self.batch_size)


@dataclass
class Evaluation:
    accuracy: float
    predictions: list[int]
    labels: list[int]
    logits: list[list[float]]


def evaluate(model, loader, accelerator) -> Evaluation:
    """Accuracy, predictions, labels and logits over a (possibly sharded) DataLoader."""
    import torch

    model.eval()
    logits: list[list[float]] = []
    labels: list[int] = []
    with torch.no_grad():
        for batch in loader:
            output = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"])
            gathered, true = accelerator.gather_for_metrics((output.logits, batch["labels"]))
            logits += gathered.float().tolist()
            labels += true.tolist()
    model.train()
    predictions = [row.index(max(row)) for row in logits]
    correct = sum(p == t for p, t in zip(predictions, labels))
    return Evaluation(correct / len(labels) if labels else 0.0, predictions, labels, logits)


def fold_temperature(model, temperature: float, num_labels: int) -> None:
    """Divide the classifier's last layer by ``temperature``: the saved model then gives
    calibrated confidences to anyone who loads it (``pipeline()`` included)."""
    import torch

    last = None
    for module in model.modules():
        if isinstance(module, torch.nn.Linear) and module.out_features == num_labels:
            last = module
    if last is None:
        raise ValueError("No classification layer found to calibrate.")
    with torch.no_grad():
        last.weight.div_(temperature)
        if last.bias is not None:
            last.bias.div_(temperature)


def _freeze(model, config: TrainConfig) -> None:
    """Keep the embeddings and the lowest ``freeze_layers`` encoder layers fixed.

    The word-embedding table is half of MiniLM's weights, and gradients stop at the lowest
    trained layer: on a 2-core CPU this makes a step several times cheaper, and on a small
    dataset it rarely costs accuracy.
    """
    if config.freeze_embeddings:
        body = getattr(model, model.base_model_prefix, model)
        for parameter in getattr(body, "embeddings", model.get_input_embeddings()).parameters():
            parameter.requires_grad_(False)
    if config.freeze_layers:
        layers = None
        for module in model.modules():
            if type(module).__name__.endswith("Encoder") and hasattr(module, "layer"):
                layers = module.layer
                break
        if layers is None:
            raise ValueError("--freeze-layers needs a BERT-style encoder (encoder.layer).")
        for layer in list(layers)[: config.freeze_layers]:
            for parameter in layer.parameters():
                parameter.requires_grad_(False)


def _latest_checkpoint(output: Path) -> tuple[Path, int] | None:
    found = []
    for folder in output.glob("checkpoints/epoch-*"):
        if (folder / "done.json").exists():
            found.append((int(folder.name.split("-")[1]), folder))
    if not found:
        return None
    epoch, folder = max(found)
    return folder, epoch


def train(
    config: TrainConfig,
    progress: ProgressCallback | None = None,
    should_stop: Callable[[], bool] | None = None,
    posts: Posts | None = None,
) -> TrainResult:
    """Fine-tune, evaluate each epoch, test at the end, save the model and its card.

    ``progress(fraction, description)`` hears every few steps; ``should_stop()`` is polled
    each step (the run then saves what it has and returns with ``stopped_early``).
    """
    import torch
    import torch.nn.functional as F
    from accelerate import Accelerator
    from accelerate.utils import set_seed

    from demos import hub

    started = time.perf_counter()
    accelerator = Accelerator(mixed_precision=config.mixed_precision)
    set_seed(config.seed)
    output = Path(config.output)
    if config.push_to_hub:
        hub.require_hub()  # fail before training, not after an hour of it

    def report(fraction: float, text: str) -> None:
        if not accelerator.is_main_process:
            return
        fraction = min(max(fraction, 0.0), 1.0)
        if progress is not None:
            progress(fraction, text)
        if config.progress_file:
            write_progress(config.progress_file, fraction, text)

    report(0.0, "Reading the posts")
    if posts is None:
        posts = load_posts(
            config.dataset,
            text_column=config.text_column,
            label_column=config.label_column,
            split_column=config.split_column,
            label_map=parse_label_map(config.label_map),
            template_share=config.template_share,
        )
    label_names = posts.label_names
    train_texts = posts.texts["train"] * config.train_repeat
    train_labels = posts.labels["train"] * config.train_repeat
    if config.max_train_samples:
        train_texts = train_texts[: config.max_train_samples]
        train_labels = train_labels[: config.max_train_samples]

    # Step 1 of lesson 4's recipe: a pretrained body, a fresh two-way head.
    report(0.02, f"Loading {public_ref(config.model, 'a local model folder')}")
    model, tokenizer = hub.load_model(
        config.model,
        "sequence-classification",
        cache=False,
        device="cpu",  # accelerate.prepare puts it on the right device for each process
        num_labels=len(label_names),
        id2label=dict(enumerate(label_names)),
        label2id={label: index for index, label in enumerate(label_names)},
        ignore_mismatched_sizes=True,
    )
    if config.lora:
        from peft import LoraConfig, TaskType, get_peft_model

        lora = LoraConfig(
            task_type=TaskType.SEQ_CLS,
            r=config.lora_r,
            lora_alpha=config.lora_alpha,
            lora_dropout=0.1,
        )
        model = get_peft_model(model, lora)
    else:
        _freeze(model, config)
    model.train()

    train_loader = _batches(tokenizer, train_texts, train_labels, config, shuffle=True)
    validation_split = "validation" if posts.texts["validation"] else "test"
    validation_loader = _batches(
        tokenizer, posts.texts[validation_split], posts.labels[validation_split], config, False
    )
    test_loader = _batches(tokenizer, posts.texts["test"], posts.labels["test"], config, False)
    free_texts, free_labels = free_written_eval(label_names) if config.free_eval else ([], [])
    free_loader = _batches(tokenizer, free_texts, free_labels, config, False)

    optimizer = torch.optim.AdamW(
        [p for p in model.parameters() if p.requires_grad],
        lr=config.learning_rate,
        weight_decay=config.weight_decay,
        fused=True,  # one kernel for all parameters: on a 2-core CPU about 5x faster than a loop
    )
    steps_per_epoch = math.ceil(len(train_loader) / accelerator.num_processes)
    total_steps = max(1, steps_per_epoch * config.epochs)
    warmup_steps = int(config.warmup_ratio * total_steps)

    def warmup_then_linear_decay(step: int) -> float:
        if step < warmup_steps:
            return (step + 1) / max(1, warmup_steps)
        return max(0.0, (total_steps - step) / max(1, total_steps - warmup_steps))

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, warmup_then_linear_decay)
    # "balanced": each label weighs in the loss as if the labels were equally common, so a label
    # with few posts (neither, here) is not drowned by the others.
    weights = None
    if config.class_weights == "balanced":
        counts = [max(1, train_labels.count(i)) for i in range(len(label_names))]
        weights = torch.tensor([len(train_labels) / (len(counts) * c) for c in counts])
    (model, optimizer, train_loader, validation_loader, test_loader, free_loader, scheduler) = (
        accelerator.prepare(
            model, optimizer, train_loader, validation_loader, test_loader, free_loader, scheduler
        )
    )

    first_epoch = 0
    history: list[dict] = []
    if config.resume and (found := _latest_checkpoint(output)):
        folder, done_epoch = found
        accelerator.load_state(str(folder))
        history = json.loads((folder / "done.json").read_text())["history"]
        first_epoch = done_epoch
        report(first_epoch / config.epochs, f"Resumed after epoch {done_epoch}")

    from tqdm.auto import tqdm

    bar = tqdm(
        total=total_steps,
        initial=first_epoch * steps_per_epoch,
        disable=config.quiet or not accelerator.is_local_main_process,
        desc="training",
    )
    trained_samples = 0
    train_seconds = 0.0
    stopped = False
    epochs_done = first_epoch
    last_validation: Evaluation | None = None  # after the last epoch: reused for calibration
    try:
        for epoch in range(first_epoch, config.epochs):
            epoch_start = time.perf_counter()
            running_loss = 0.0
            for step, batch in enumerate(train_loader):
                # The five steps of every PyTorch training loop:
                optimizer.zero_grad()  # 1. zero the gradients
                outputs = model(  # 2. forward pass
                    input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]
                )
                loss = F.cross_entropy(  # 3. loss
                    outputs.logits, batch["labels"], weight=_on(weights, outputs.logits)
                )
                accelerator.backward(loss)  # 4. backward pass
                accelerator.clip_grad_norm_(model.parameters(), config.max_grad_norm)
                optimizer.step()  # 5. optimizer step
                scheduler.step()

                # Summed on the device: reading loss.item() every step would stall a GPU.
                running_loss += loss.detach()
                trained_samples += batch["labels"].shape[0] * accelerator.num_processes
                bar.update(1)
                if step % 10 == 0:
                    shown = loss.item()
                    bar.set_postfix(loss=f"{shown:.4f}")
                    done = (epoch * steps_per_epoch + step + 1) / total_steps
                    report(
                        0.05 + 0.85 * done,
                        f"epoch {epoch + 1}/{config.epochs}, step {step + 1}/{steps_per_epoch}, "
                        f"loss {shown:.3f}",
                    )
                timed_out = (
                    config.time_limit_s is not None
                    and time.perf_counter() - started > config.time_limit_s
                )
                if timed_out or (should_stop is not None and should_stop()):
                    raise TrainingStopped
            train_seconds += time.perf_counter() - epoch_start
            last_validation = evaluate(model, validation_loader, accelerator)
            accuracy = last_validation.accuracy
            record = {
                "epoch": epoch + 1,
                "train_loss": float(running_loss) / max(1, step + 1),
                f"{validation_split}_accuracy": accuracy,
                "learning_rate": scheduler.get_last_lr()[0],
            }
            history.append(record)
            epochs_done = epoch + 1
            accelerator.print(json.dumps(record))
            if config.checkpoints:
                _save_checkpoint(accelerator, output, epoch + 1, history)
    except TrainingStopped:
        stopped = True
        if train_seconds == 0.0:
            train_seconds = time.perf_counter() - epoch_start
    bar.close()

    # Calibrate: one temperature, fitted on the validation posts, folded into the last layer.
    report(0.9, "Calibrating the confidences on the validation posts")
    validation = (
        last_validation
        if last_validation is not None and not stopped
        else evaluate(model, validation_loader, accelerator)
    )
    temperature = calibration.fit_temperature(validation.logits, validation.labels)
    report(0.92, "Testing on the held-out posts")
    test = evaluate(model, test_loader, accelerator)
    free = evaluate(model, free_loader, accelerator) if free_texts else None
    ece = calibration.expected_calibration_error
    calibrated = {
        "temperature": temperature,
        "fitted_on": f"{len(validation.labels)} validation posts",
        "ece_validation_before": ece(validation.logits, validation.labels),
        "ece_validation_after": ece(validation.logits, validation.labels, temperature),
        "ece_test_before": ece(test.logits, test.labels),
        "ece_test_after": ece(test.logits, test.labels, temperature),
    }
    if free is not None:
        calibrated["ece_free_before"] = ece(free.logits, free.labels)
        calibrated["ece_free_after"] = ece(free.logits, free.labels, temperature)
    fold_temperature(accelerator.unwrap_model(model), temperature, len(label_names))
    baseline = None
    if free is not None and config.baseline:
        report(0.94, "Scoring the zero-shot baseline on the free-written posts")
        baseline = _zero_shot_baseline(free_texts, free_labels, label_names)
    result = TrainResult(
        output_dir=str(output),
        epochs_done=epochs_done,
        history=history,
        label_names=list(label_names),
        test_accuracy=test.accuracy,
        test_posts=len(test.labels),
        confusion_matrix=confusion_matrix(test.predictions, test.labels, len(label_names)),
        free_written_accuracy=free.accuracy if free else None,
        free_written_posts=len(free.labels) if free else 0,
        free_written_confusion_matrix=(
            confusion_matrix(free.predictions, free.labels, len(label_names)) if free else None
        ),
        free_written_zero_shot_accuracy=baseline,
        calibration=calibrated,
        samples_per_second=trained_samples / train_seconds if train_seconds else 0.0,
        wall_time_s=0.0,
        stopped_early=stopped,
        num_processes=accelerator.num_processes,
        device=str(accelerator.device),
    )
    accelerator.print(json.dumps({"calibration": calibrated}))

    report(0.95, "Saving the model")
    accelerator.wait_for_everyone()
    if accelerator.is_main_process:
        final = accelerator.unwrap_model(model)
        if config.lora:
            final = final.merge_and_unload()  # a plain model folder that hub.py can serve
        final.save_pretrained(output, safe_serialization=True)
        tokenizer.save_pretrained(output)
        result.wall_time_s = time.perf_counter() - started
        result.cpu_time_s = time.process_time()
        (output / "metrics.json").write_text(json.dumps(asdict(result), indent=2))
        (output / "README.md").write_text(model_card(config, result, posts))
        if config.push_to_hub:
            report(0.98, f"Pushing to {config.push_to_hub}")
            final.push_to_hub(config.push_to_hub)
            tokenizer.push_to_hub(config.push_to_hub)
    accelerator.wait_for_everyone()
    hub.clear_cache(output)  # a served copy of an older run must not outlive this one
    result.wall_time_s = time.perf_counter() - started
    free_note = f", free-written {result.free_written_accuracy:.1%}" if free else ""
    report(1.0, f"Done: template test {result.test_accuracy:.1%}{free_note}")
    return result


def _zero_shot_baseline(texts: list[str], labels: list[int], label_names) -> float | None:
    """Accuracy of the offline zero-shot method (no training) on the same posts: the baseline
    that says whether fine-tuning was worth it. None if its model cannot be loaded here."""
    from demos import hub
    from demos.advice import similarity

    try:
        scores = similarity.similarity_zero_shot(texts)
    except hub.HubError:
        return None
    correct = 0
    for row, label in zip(scores, labels):
        known = {name: row.get(name, 0.0) for name in label_names}
        correct += max(known, key=known.get) == label_names[label]
    return correct / len(labels) if labels else None


def _on(weights, like):
    return None if weights is None else weights.to(like.device, like.dtype)


def write_progress(path: str | os.PathLike, fraction: float, text: str) -> None:
    """Replace ``path`` with ``{"fraction", "message", "time"}`` in one step (readers never see
    half a file): how a server follows a run of this script in another process."""
    target = Path(path)
    partial = target.with_name(target.name + ".tmp")
    partial.write_text(json.dumps({"fraction": fraction, "message": text, "time": time.time()}))
    os.replace(partial, target)


def _save_checkpoint(accelerator, output: Path, epoch: int, history: list[dict]) -> None:
    """Save model, optimizer, scheduler and RNG state; keep only the latest two checkpoints."""
    folder = output / "checkpoints" / f"epoch-{epoch}"
    accelerator.save_state(str(folder))
    if accelerator.is_main_process:
        (folder / "done.json").write_text(json.dumps({"epoch": epoch, "history": history}))
        for old in output.glob("checkpoints/epoch-*"):
            if int(old.name.split("-")[1]) < epoch - 1:
                shutil.rmtree(old, ignore_errors=True)
    accelerator.wait_for_everyone()


def _matrix_table(matrix: list[list[int]] | None, names: list[str]) -> str:
    if not matrix:
        return ""
    head = "| true \\ predicted | " + " | ".join(names) + " |\n|---|" + "---|" * len(names)
    rows = [f"| {name} | " + " | ".join(map(str, row)) + " |" for name, row in zip(names, matrix)]
    return head + "\n" + "\n".join(rows)


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1%}"


def model_card(config: TrainConfig, result: TrainResult, posts: Posts) -> str:
    """A short model card (README.md): data, settings, both test sets, calibration, limits."""
    names = result.label_names or list(posts.label_names)
    counts = posts.counts()
    data_rows = "\n".join(
        f"| {split} | " + " | ".join(str(counts[split][n]) for n in names) + " |"
        for split in ("train", "validation", "test")
    )
    history = "\n".join(
        "| " + " | ".join(f"{v:.4g}" if isinstance(v, float) else str(v) for v in r.values()) + " |"
        for r in result.history
    )
    header = " | ".join(result.history[0]) if result.history else "epoch"
    c = result.calibration or {}
    free = ""
    if result.free_written_accuracy is not None:
        gap = (result.test_accuracy or 0) - result.free_written_accuracy
        free = f"""
### Free-written posts (written one by one, never trained on)
{result.free_written_posts} posts of `free_written_eval.jsonl` (see its datasheet): other
topics, lengths from one line to several paragraphs, slang, typos, and posts that are neither.
Accuracy: **{_percent(result.free_written_accuracy)}** (zero-shot baseline without training, MiniLM
similarity to label descriptions: {_percent(result.free_written_zero_shot_accuracy)}).

{_matrix_table(result.free_written_confusion_matrix, names)}

The gap ({gap:+.1%} points from the template split to these posts) is what a test split from the
same generator as the training data hides: it measures how well the model learned the
templates, not how it does on a post someone types.
"""
    calibration_text = ""
    if c:
        calibration_text = f"""
## Calibration
Temperature scaling (one number dividing the logits, fitted on the {c.get("fitted_on", "")}) and
folded into the last layer, so `pipeline()` gives calibrated confidences. Temperature
**{c["temperature"]:.2f}**. Expected calibration error (15 bins), before → after:

| posts | before | after |
|---|---|---|
| validation (fitted on) | {_percent(c.get("ece_validation_before"))} | {_percent(c.get("ece_validation_after"))} |
| template test split | {_percent(c.get("ece_test_before"))} | {_percent(c.get("ece_test_after"))} |
| free-written | {_percent(c.get("ece_free_before"))} | {_percent(c.get("ece_free_after"))} |
"""
    where = config.push_to_hub or public_ref(result.output_dir)
    return f"""---
library_name: transformers
pipeline_tag: text-classification
license: apache-2.0
tags: [text-classification, advice, venting]
---
# Advice or venting?

Classifies a Reddit-style post as **{"**, **".join(names)}**: the writer asks for advice, vents
(expresses feelings and asks for nothing){", or does neither (news, jokes, celebrations, other questions)" if "neither" in names else ""}.
Fine-tuned from `{public_ref(config.model, "a local model folder")}` with the raw PyTorch loop of
`python -m demos.advice.train`.

```python
from transformers import pipeline
classify = pipeline("text-classification", model="{where}")
```

## Data
Source: `{posts.source}`

| split | {" | ".join(names)} |
|---{"|---" * len(names)}|
{data_rows}

## Training
epochs {result.epochs_done} of {config.epochs}, batch {config.batch_size}, learning rate
{config.learning_rate}, warmup {config.warmup_ratio:.0%} then linear decay, gradient clipping at
{config.max_grad_norm}, max length {config.max_length}, LoRA {"on" if config.lora else "off"},
mixed precision {config.mixed_precision}, {result.num_processes} process(es) on {result.device}.

| {header} |
|{"---|" * max(1, len(result.history[0]) if result.history else 1)}
{history}

## Evaluation
### Template test split (held-out topics, same generator as training)
{result.test_posts} posts. Accuracy: **{_percent(result.test_accuracy)}**

{_matrix_table(result.confusion_matrix, names)}
{free}{calibration_text}
## Limits
The template posts are synthetic (see the datasheet): their score does not promise the same on
real posts; the free-written score is the better guide, and real posts will differ again.
English only. Not a mental-health tool.
"""


def parse_args(argv: list[str] | None = None) -> TrainConfig:
    defaults = TrainConfig()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default=defaults.model, help="Hub ID or folder of the base")
    parser.add_argument("--output", default=defaults.output, help="folder for the fine-tuned model")
    parser.add_argument("--dataset", help="data file or Hub dataset ID (default: project posts)")
    parser.add_argument("--text-column", default="text")
    parser.add_argument("--label-column", default="label")
    parser.add_argument(
        "--split-column", default="split", help="column naming each row's split (if any)"
    )
    parser.add_argument(
        "--label-map",
        help="label values onto advice/venting/neither, e.g. 'Advice=advice,Vent=venting'",
    )
    parser.add_argument("--epochs", type=int, default=defaults.epochs)
    parser.add_argument("--batch-size", type=int, default=defaults.batch_size)
    parser.add_argument("--learning-rate", type=float, default=defaults.learning_rate)
    parser.add_argument("--weight-decay", type=float, default=defaults.weight_decay)
    parser.add_argument("--warmup-ratio", type=float, default=defaults.warmup_ratio)
    parser.add_argument("--max-grad-norm", type=float, default=defaults.max_grad_norm)
    parser.add_argument("--max-length", type=int, default=defaults.max_length)
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument(
        "--freeze-embeddings",
        action=argparse.BooleanOptionalAction,
        default=defaults.freeze_embeddings,
        help="keep the word-embedding table fixed (faster on CPU)",
    )
    parser.add_argument(
        "--freeze-layers", type=int, default=0, help="keep the lowest N encoder layers fixed"
    )
    parser.add_argument(
        "--truncation-side", choices=["left", "right"], default=defaults.truncation_side
    )
    parser.add_argument("--lora", action="store_true", help="train LoRA adapters (peft)")
    parser.add_argument("--lora-r", type=int, default=defaults.lora_r)
    parser.add_argument("--lora-alpha", type=int, default=defaults.lora_alpha)
    parser.add_argument(
        "--mixed-precision",
        choices=["no", "fp16", "bf16"],
        default=os.environ.get("ACCELERATE_MIXED_PRECISION", "no"),
    )
    parser.add_argument("--resume", action="store_true", help="continue from the last checkpoint")
    parser.add_argument("--push-to-hub", metavar="REPO_ID", help="push the model to this repo")
    parser.add_argument("--time-limit", type=float, dest="time_limit_s", help="stop after seconds")
    parser.add_argument("--train-repeat", type=int, default=1, help="repeat the train split")
    parser.add_argument(
        "--template-share",
        type=float,
        default=defaults.template_share,
        help="share of the project's template training posts to use (free-written: all)",
    )
    parser.add_argument(
        "--group-by-length",
        action=argparse.BooleanOptionalAction,
        default=defaults.group_by_length,
        help="batch posts of similar length together (less padding, faster)",
    )
    parser.add_argument(
        "--class-weights",
        choices=["none", "balanced"],
        default=defaults.class_weights,
        help="balanced: weigh each label's loss by how rare it is in training",
    )
    parser.add_argument("--max-train-samples", type=int)
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument(
        "--free-eval",
        action=argparse.BooleanOptionalAction,
        default=defaults.free_eval,
        help="also test on the project's free-written posts (those with the model's labels)",
    )
    parser.add_argument(
        "--baseline",
        action=argparse.BooleanOptionalAction,
        default=defaults.baseline,
        help="score the offline zero-shot method on the free-written posts too",
    )
    parser.add_argument(
        "--checkpoints",
        action=argparse.BooleanOptionalAction,
        default=defaults.checkpoints,
        help="save model and optimizer state after each epoch (for --resume)",
    )
    parser.add_argument(
        "--progress-file", help="keep the run's progress in this JSON file (for a server)"
    )
    parser.add_argument(
        "--stop-with-parent", action="store_true", help="exit when the process that started it ends"
    )
    return TrainConfig(**vars(parser.parse_args(argv)))


def _exit_when_orphaned() -> None:
    """Run by a server's child process: when the server is gone, stop (nobody would read the
    result, and a stopped Space must not keep training in the background)."""
    import threading

    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(3)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def main(argv: list[str] | None = None) -> None:
    from demos.hub import HubError

    config = parse_args(argv)
    if config.stop_with_parent:
        _exit_when_orphaned()
    try:
        result = train(config)
    except (HubError, DatasetError) as error:  # a sentence, not a traceback
        raise SystemExit(f"error: {error}") from None
    if result.num_processes == 1 or int(os.environ.get("RANK", "0")) == 0:
        summary = {k: v for k, v in asdict(result).items() if k != "history"}
        print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()

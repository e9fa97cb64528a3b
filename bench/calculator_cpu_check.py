"""The calculator's CPU row ("2 vCPU, no GPU") against a real training step on this machine's CPU.

Times a MiniLM-L6 classifier (the course's own model shape, built from its config: random weights)
for a few full fine-tuning steps in fp32, and compares with the calculator's prediction for the
"CPU-2" card; also the process's resident memory growth against the calculator's allocated bytes.
What it can say: whether the CPU row's peak and MFU are the right order. What it cannot: the CPU has
no CUDA context and no caching allocator, so the memory comparison is the formula's tensors only;
and on a shared machine the time is inflated by the other processes (the load is printed).

    .venv/bin/python bench/calculator_cpu_check.py
"""

from __future__ import annotations

import os
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from demos.calculator.estimate import ModelJob, estimate  # noqa: E402
from demos.calculator.model_size import architecture_from_config  # noqa: E402

GIB = 2**30
JOBS = [("MiniLM-L6 classifier, 8 x 128", 8, 128), ("MiniLM-L6 classifier, 32 x 128", 32, 128)]


def _step(model, optimizer, ids, labels) -> None:
    loss = model(input_ids=ids, labels=labels).loss
    loss.backward()
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)


def main() -> int:
    import torch
    import transformers

    transformers.logging.set_verbosity_error()
    torch.set_num_threads(min(2, os.cpu_count() or 1))
    config = transformers.BertConfig(
        hidden_size=384,
        intermediate_size=1536,
        num_hidden_layers=6,
        num_attention_heads=12,
        vocab_size=30522,
        num_labels=2,
    )
    print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print("| job | measured s/step | predicted s/step | error | RSS growth GiB | predicted GiB |")
    print("|---|---|---|---|---|---|")
    for name, batch, seq in JOBS:
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        model = transformers.AutoModelForSequenceClassification.from_config(config)
        model.train()
        optimizer = torch.optim.AdamW(model.parameters(), lr=1e-5)
        ids = torch.randint(1, config.vocab_size, (batch, seq))
        labels = torch.zeros(batch, dtype=torch.long)

        for _ in range(2):
            _step(model, optimizer, ids, labels)
        start = time.perf_counter()
        for _ in range(5):
            _step(model, optimizer, ids, labels)
        seconds = (time.perf_counter() - start) / 5
        rss_growth = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - rss_before) / GIB
        parameters = sum(p.numel() for p in model.parameters())
        result = estimate(
            ModelJob(
                parameters=parameters,
                examples=batch * 100,
                tokens_per_example=seq,
                sequence_length=seq,
                batch_size=batch,
                method="full",
                precision="fp32",
                gpu="CPU-2",
                architecture=architecture_from_config(config.to_dict()),
                task="classification",
            )
        )
        predicted = result.hours * 3600 / 100
        print(
            f"| {name} | {seconds:.3f} | {predicted:.3f} | {predicted / seconds - 1:+.0%} "
            f"| {rss_growth:.2f} | {result.memory.allocated:.2f} |"
        )
        model = optimizer = None
    print(f"load average after: {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

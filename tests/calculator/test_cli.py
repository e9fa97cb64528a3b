"""The command line: python -m demos.calculator."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from demos.calculator.__main__ import main

ROOT = Path(__file__).resolve().parents[2]


def test_help_runs_as_a_module():
    out = subprocess.run(
        [sys.executable, "-m", "demos.calculator", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0
    assert "--seconds-per-batch" in out.stdout and "--json" in out.stdout


def test_friend_scenario_table(capsys):
    assert main(["--friend"]) == 0
    text = capsys.readouterr().out
    assert "Kaggle" in text and "Per GPU:" in text and "C = k x N x D" in text


def test_json_output(capsys):
    assert (
        main(
            [
                "--parameters",
                "125M",
                "--examples",
                "20000",
                "--tokens-per-example",
                "200",
                "--epochs",
                "3",
                "--seq",
                "256",
                "--batch",
                "16",
                "--method",
                "lora",
                "--json",
            ]
        )
        == 0
    )
    data = json.loads(capsys.readouterr().out)
    assert data["recommendation"]["platform"] == "colab_free"
    assert data["memory"]["total"] > 0


def test_measured(capsys):
    assert (
        main(
            [
                "--measured",
                "--seconds-per-batch",
                "3.84",
                "--examples",
                "20000",
                "--epochs",
                "3",
                "--batch",
                "16",
                "--json",
            ]
        )
        == 0
    )
    data = json.loads(capsys.readouterr().out)
    assert abs(data["hours"] - 4.0) < 0.05


def test_bad_input_is_a_clean_error(capsys):
    assert main(["--parameters", "3B", "--examples", "100", "--gpu", "Z80"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: gpu: Unknown GPU 'Z80'") and "Traceback" not in err
    assert main(["--parameters", "3B", "--examples", "nan"]) == 2
    assert "examples" in capsys.readouterr().err

"""The notebooks under notebooks/: generated from the lessons, never stale, and every one of them
runs top to bottom in a real Jupyter kernel (nbclient), offline on the CPU, with the fake Hub
cache of fake_hub.py and the worked example's quick settings.

Each notebook is executed as the generator builds it from the current lessons; the drift test
checks that the committed file is exactly that, so together they run what a learner opens.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from demos.course import load_course
from scripts import generate_notebooks as gen

ROOT = Path(__file__).resolve().parents[2]
SOURCES = gen.sources()
EXPECTED = gen.expected_notebooks()
CELL_TIMEOUT_S = 240
QUICK_ENV = {
    "ADVICE_QUICK": "1",
    "ADVICE_INTERRUPT_AT": "3",  # in epoch 2 of 2 (2 steps each): resumes from epoch 1's checkpoint
    "ADVICE_POSTS": str(ROOT / "demos" / "advice" / "data" / "posts.jsonl"),
    "COURSE_NOTEBOOK_TEST": "1",
}


def test_committed_notebooks_match_their_lessons():
    stale = gen.stale_notebooks()
    assert not stale, (
        f"these notebooks are out of date: {stale}. "
        "Run `python scripts/generate_notebooks.py` and commit the result."
    )


def test_a_lesson_edited_without_regenerating_is_caught(tmp_path):
    """The drift check compares with what the lessons produce now, so an edit shows up."""
    lessons = tmp_path / "lessons"
    shutil.copytree(ROOT / "lessons", lessons)
    path = lessons / "01-pytorch.md"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("print(y.shape)", "print(y.shape, y.dtype)", 1), encoding="utf-8")
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    for name, content in EXPECTED.items():
        (notebooks / name).write_text(content, encoding="utf-8")
    assert gen.stale_notebooks(notebooks, lessons_dir=lessons) == ["01-pytorch.ipynb"]
    (notebooks / "99-gone.ipynb").write_text("{}", encoding="utf-8")
    assert "99-gone.ipynb" in gen.stale_notebooks(notebooks, lessons_dir=lessons)


def test_the_check_command_fails_on_a_stale_notebook(tmp_path, monkeypatch):
    monkeypatch.setattr(gen, "NOTEBOOKS_DIR", tmp_path)
    assert gen.main(["--check"]) == 1  # nothing generated in tmp_path yet
    assert gen.main([]) == 0
    assert gen.main(["--check"]) == 0


def test_every_lesson_with_code_has_a_notebook_and_the_page_notebooks_exist():
    with_code = [les.path.stem for les in load_course().lessons if les.code_blocks]
    names = [source.lesson.path.stem for source in SOURCES]
    assert with_code and set(with_code) <= set(names)
    assert "advice-classifier-t4" in names
    for source in SOURCES:
        assert load_course().lesson(source.page_id) is not None, source.page_id


@pytest.mark.parametrize("source", SOURCES, ids=lambda s: s.name)
def test_notebook_layout(source):
    notebook = nbformat.reads(EXPECTED[source.name], as_version=4)
    nbformat.validate(notebook)
    cells = notebook.cells
    assert cells[0].cell_type == "markdown" and source.lesson.title in cells[0].source
    setup = next(cell for cell in cells if cell.cell_type == "code")
    assert "PINNED = " in setup.source
    # The GPU note and the preselected runtime only where the lesson needs a GPU.
    assert ("T4" in cells[1].source) == source.lesson.gpu
    assert (notebook.metadata.get("accelerator") == "GPU") == source.lesson.gpu
    assert notebook.metadata["kaggle"]["isGpuEnabled"] == source.lesson.gpu
    # Every runnable block of the lesson is a code cell, in order.
    code_cells = [cell.source for cell in cells if cell.cell_type == "code"][1:]
    if source.lesson.gpu:  # the GPU check cell follows the setup cell
        assert code_cells.pop(0).startswith("import torch")
    runnable = [block.code.rstrip("\n") for block in source.lesson.code_blocks if block.runnable]
    assert [c.split("\n", 1)[1] if c.startswith("# @title") else c for c in code_cells] == runnable


@pytest.mark.parametrize("source", SOURCES, ids=lambda s: s.name)
def test_setup_cell_pins_requirements_and_installs_only_what_differs(source, monkeypatch):
    notebook = nbformat.reads(EXPECTED[source.name], as_version=4)
    setup = next(cell for cell in notebook.cells if cell.cell_type == "code").source
    versions = gen.pinned_versions()
    namespace: dict = {}
    calls: list[list[str]] = []
    monkeypatch.setattr(subprocess, "check_call", lambda args, **kw: calls.append(args))
    exec(compile(setup, "setup", "exec"), namespace)
    pinned = namespace["PINNED"]
    assert all(versions[name.lower()] == version for name, version in pinned.items())
    assert calls == [], "with every pinned version installed, the cell must not call pip"
    if not pinned:
        return
    name = next(iter(pinned))
    exec(
        compile(setup.replace(f'"{name}": "{pinned[name]}"', f'"{name}": "0.0.1"'), "s", "exec"), {}
    )
    pip = [sys.executable, "-m", "pip", "install", "--quiet", "--retries", "2"]
    assert calls == [[*pip, f"{name}==0.0.1"]]

    # Offline (Kaggle with Internet off, a machine with no network): say so and carry on.
    def fail(args, **kw):
        raise subprocess.CalledProcessError(1, args)

    monkeypatch.setattr(subprocess, "check_call", fail)
    exec(
        compile(setup.replace(f'"{name}": "{pinned[name]}"', f'"{name}": "0.0.1"'), "s", "exec"), {}
    )


@pytest.mark.parametrize("source", SOURCES, ids=lambda s: s.name)
def test_notebook_runs_in_a_real_kernel(source, lesson_env, tmp_path):
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError

    notebook = nbformat.reads(EXPECTED[source.name], as_version=4)
    env = {**lesson_env, **QUICK_ENV, "ADVICE_OUTPUT": str(tmp_path / "advice")}
    client = NotebookClient(
        notebook,
        timeout=CELL_TIMEOUT_S,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},  # lessons write files (checkpoints)
    )
    try:
        client.execute(env=env)
    except (CellExecutionError, CellTimeoutError) as err:
        failed = next((c for c in notebook.cells if c.cell_type == "code" and _has_error(c)), None)
        where = failed.metadata.get("course", {}) if failed is not None else {}
        pytest.fail(
            f"{source.name}: the cell from {where.get('source')}:{where.get('line')} failed:\n"
            f"{str(err)[-3000:]}",
            pytrace=False,
        )
    outputs = "".join(
        output.get("text", "") for cell in notebook.cells for output in cell.get("outputs", [])
    )
    assert "All the pinned libraries are installed." in outputs
    if source.name == "advice-classifier-t4.ipynb":
        _check_worked_example(outputs, tmp_path / "advice")


def _has_error(cell) -> bool:
    return any(output.output_type == "error" for output in cell.get("outputs", []))


def _check_worked_example(outputs: str, output_dir: Path) -> None:
    """The quick run was cut off in epoch 2, resumed from epoch 1's checkpoint and finished."""
    assert "the session is cut off (simulated)" in outputs
    assert "resuming from the checkpoint: epoch 2, step 2 of 4" in outputs
    metrics = json.loads((output_dir / "metrics.json").read_text())
    assert metrics["resumed_after_interruption"] is True
    assert metrics["device"] == "CPU" and 0.0 <= metrics["test_accuracy"] <= 1.0
    assert (output_dir / "model" / "config.json").exists()

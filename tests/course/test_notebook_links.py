"""Each lesson page links to its notebook: Open in Colab and Kaggle from the Space's own repo
(SPACE_ID, so a duplicate links to its own copy), a download link always."""

from __future__ import annotations

import dataclasses

import pytest

from demos import config, course_ui, notebook_links
from demos.course import load_course

COURSE = load_course()


def test_urls_point_at_the_spaces_own_notebook():
    nb = notebook_links.notebooks_for_page("pytorch")[0]
    assert nb.repo_path == "notebooks/01-pytorch.ipynb" and nb.path.exists()
    assert notebook_links.colab_url("alice/ml-course", nb.repo_path) == (
        "https://colab.research.google.com/#fileId=https%3A//huggingface.co/spaces/"
        "alice/ml-course/blob/main/notebooks/01-pytorch.ipynb"
    )
    assert notebook_links.kaggle_url("alice/ml-course", nb.repo_path) == (
        "https://kaggle.com/kernels/welcome?src=https://huggingface.co/spaces/"
        "alice/ml-course/resolve/main/notebooks/01-pytorch.ipynb"
    )


def test_a_duplicate_links_to_its_own_copy():
    lesson = COURSE.lesson("pytorch")
    original = course_ui.notebook_markdown(lesson, "alice/ml-course")
    duplicate = course_ui.notebook_markdown(lesson, "bob/my-copy")
    assert "spaces/alice/ml-course/" in original and "alice" not in duplicate
    assert duplicate.count("spaces/bob/my-copy/") == 2  # Colab and Kaggle


@pytest.mark.parametrize("space_id", ["", "not a space", "../etc/passwd", "a/b/c", None])
def test_without_a_valid_space_id_only_the_download_is_offered(space_id, monkeypatch):
    monkeypatch.setattr(course_ui, "settings", dataclasses.replace(config.settings, space_id=""))
    text = course_ui.notebook_markdown(COURSE.lesson("pytorch"), space_id)
    assert "Open in Colab](" not in text and "Open in Kaggle](" not in text
    assert "[Download](gradio_api/file=" in text and "COURSE_SPACE_ID" in text


def test_space_id_comes_from_the_environment():
    on_a_space = {"SPACE_ID": "carol/course", "COURSE_SPACE_ID": "dave/elsewhere"}
    assert config.space_id_from(on_a_space) == "carol/course"
    assert config.space_id_from({"COURSE_SPACE_ID": "dave/elsewhere"}) == "dave/elsewhere"
    assert config.space_id_from({}) == ""


def test_every_lesson_with_code_links_its_notebook_and_gpu_lessons_say_t4():
    for lesson in COURSE.lessons:
        text = course_ui.notebook_markdown(lesson, "alice/ml-course")
        if not lesson.code_blocks:
            assert text == "", lesson.id
            continue
        assert f"notebooks/{lesson.path.stem}.ipynb" in text
        assert ("T4" in text) == lesson.gpu, lesson.id


def test_the_worked_example_is_linked_from_lesson_four_with_its_space():
    text = course_ui.notebook_markdown(COURSE.lesson("idea-to-demo"), "alice/ml-course")
    assert "notebooks/advice-classifier-t4.ipynb" in text
    assert 'COURSE_SPACE = "alice/ml-course"' in text


def test_a_foreign_notebook_is_ignored(tmp_path):
    (tmp_path / "x.ipynb").write_text('{"metadata": {}}')
    (tmp_path / "y.ipynb").write_text("not json")
    assert notebook_links.load_notebooks(tmp_path) == []

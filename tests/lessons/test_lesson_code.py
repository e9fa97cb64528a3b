"""The lessons' Python blocks: the ones marked no-run compile and say why, and runnable code only
loads models that the fake Hub cache provides.

The runnable blocks themselves run in tests/lessons/test_notebooks.py: each lesson's notebook,
generated from its Markdown, executes top to bottom in a real Jupyter kernel, offline on the CPU,
with a Hugging Face cache holding tiny models under the real Hub IDs (see fake_hub.py). A failure
names the lesson file and the line where the failing block starts.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from demos.course import Lesson
from scripts.generate_notebooks import sources
from tests.lessons.fake_hub import MINILM_ID, NLI_ID, ROBERTA_ID, SMOLLM_ID, SST2_ID

# The lessons with code, and the notebook-only sources of lessons/notebooks/.
LESSONS_WITH_CODE = [source.lesson for source in sources()]
FAKE_HUB_IDS = {SST2_ID, NLI_ID, ROBERTA_ID, SMOLLM_ID, MINILM_ID}


def file_line(lesson: Lesson, body_line: int) -> int:
    """Line in the lesson file of a line counted within the lesson's body."""
    text = lesson.path.read_text(encoding="utf-8").replace("\r\n", "\n")
    return text[: text.index(lesson.body)].count("\n") + body_line


@pytest.mark.parametrize("lesson", LESSONS_WITH_CODE, ids=lambda lesson: lesson.path.name)
def test_no_run_blocks_compile_and_say_why(lesson: Lesson):
    for block in lesson.code_blocks:
        if block.runnable:
            continue
        line = file_line(lesson, block.line)
        assert block.note, (
            f"{lesson.path.name}:{line}: a no-run block must say why (```python no-run: <reason>)"
        )
        try:
            compile("\n" * (line - 1) + block.code, str(lesson.path), "exec")
        except SyntaxError as err:
            pytest.fail(
                f"{lesson.path.name}:{err.lineno}: no-run block does not compile: {err.msg}"
            )


HUB_ID_IN_CODE = re.compile(r"""["']([A-Za-z0-9][\w.-]*/[\w.-]+)["']""")


@pytest.mark.parametrize("lesson", LESSONS_WITH_CODE, ids=lambda lesson: lesson.path.name)
def test_runnable_code_uses_only_models_the_fake_hub_provides(lesson: Lesson):
    """A new Hub ID in runnable lesson code needs a tiny stand-in in fake_hub.py."""
    used = {
        match
        for block in lesson.code_blocks
        if block.runnable
        for match in HUB_ID_IN_CODE.findall(block.code)
    }
    missing = used - FAKE_HUB_IDS
    assert not missing, (
        f"{lesson.path.name}: add these IDs to tests/lessons/fake_hub.py: {sorted(missing)}"
    )


def test_fake_hub_resolves_every_model_offline(fake_hub_cache: Path):
    from huggingface_hub import try_to_load_from_cache

    for repo_id in sorted(FAKE_HUB_IDS):
        config = try_to_load_from_cache(repo_id, "config.json", cache_dir=fake_hub_cache)
        assert isinstance(config, str) and Path(config).is_file(), repo_id

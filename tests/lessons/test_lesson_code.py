"""Every Python block of every lesson runs (or, if marked no-run, compiles), offline, on the CPU.

Blocks of one lesson run in order in one namespace, like notebook cells, in a fresh
subprocess whose Hugging Face cache holds tiny models under the real Hub IDs (see
fake_hub.py). A failure names the lesson file and the line where the failing block starts.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from demos.course import Lesson, load_course
from tests.lessons.fake_hub import MINILM_ID, NLI_ID, ROBERTA_ID, SMOLLM_ID, SST2_ID

COURSE = load_course()
LESSONS_WITH_CODE = [lesson for lesson in COURSE.lessons if lesson.code_blocks]
FAKE_HUB_IDS = {SST2_ID, NLI_ID, ROBERTA_ID, SMOLLM_ID, MINILM_ID}
LESSON_TIMEOUT_S = 150

# Executes the blocks one by one in a shared namespace; on failure prints the block's file
# line as JSON on the last line of stderr, then the traceback (whose line numbers match the file).
RUNNER = """
import json, sys, traceback
import torch
torch.set_num_threads(2)
blocks = json.loads(sys.argv[1])
namespace = {"__name__": "__lesson__"}
for block in blocks:
    code = compile("\\n" * (block["line"] - 1) + block["code"], block["file"], "exec")
    try:
        exec(code, namespace)
    except BaseException:
        traceback.print_exc()
        print(json.dumps({"failed_line": block["line"]}), file=sys.stderr)
        sys.exit(1)
"""


def file_line(lesson: Lesson, body_line: int) -> int:
    """Line in the lesson file of a line counted within the lesson's body."""
    text = lesson.path.read_text(encoding="utf-8").replace("\r\n", "\n")
    return text[: text.index(lesson.body)].count("\n") + body_line


def blocks_of(lesson: Lesson, runnable: bool) -> list[dict]:
    return [
        {"code": block.code, "line": file_line(lesson, block.line), "file": str(lesson.path)}
        for block in lesson.code_blocks
        if block.runnable == runnable
    ]


@pytest.mark.parametrize("lesson", LESSONS_WITH_CODE, ids=lambda lesson: lesson.path.name)
def test_runnable_blocks_run_in_order(lesson: Lesson, lesson_env: dict, tmp_path: Path):
    blocks = blocks_of(lesson, runnable=True)
    if not blocks:
        pytest.skip("no runnable blocks")
    try:
        result = subprocess.run(
            [sys.executable, "-c", RUNNER, json.dumps(blocks)],
            cwd=tmp_path,  # lessons may write files (checkpoints, outputs/) in their working folder
            env=lesson_env,
            capture_output=True,
            text=True,
            timeout=LESSON_TIMEOUT_S,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"{lesson.path.name}: its code took longer than {LESSON_TIMEOUT_S} s")
    if result.returncode != 0:
        lines = result.stderr.strip().splitlines()
        where = "unknown line"
        if lines and lines[-1].startswith('{"failed_line"'):
            where = f"the block starting at line {json.loads(lines[-1])['failed_line']}"
        tail = "\n".join(lines[-40:])
        pytest.fail(f"{lesson.path.name}: {where} failed:\n{tail}", pytrace=False)


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

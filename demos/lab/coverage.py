"""Which rubric points the learner's messages cover: sentence embeddings offline, or a capable
model as judge. Pure logic; the embedding model loads through :mod:`demos.hub` on first use.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from demos import hub
from demos.course import Scenario
from demos.lab.compute import compute
from demos.lab.evidence import (
    THAI_LETTERS,
    UNSPACED,
    AllOf,
    Check,
    Terms,
    card_figures_removed,
    card_words_removed,
    dismisses,
    evidence_found,
    gloss,
    is_claim,
    is_hard_claim,
    is_headline,
    is_hedged,
    is_hype,
    is_keyword_string,
    is_labelled_list,
    is_list,
    is_number_string,
    looks_english,
    looks_foreign,
    reads_back_facts,
    restates,
    without_card_numbers,
    words,
    wrong_arithmetic,
)
from demos.lab.prompts import prompt_texts

STATUSES = ("covered", "partial", "missing")
# Calibrated on tests/lab/data/transcripts (see tests/lab/test_coverage.py): the cosine
# similarity of a learner sentence to a point or one of its examples.
COVERED_AT = 0.57
PARTIAL_AT = 0.40
# A sentence with a wrong specific at least this near its nearest point caps that point at
# partial across the conversation (above 1.0: only the sentence itself is capped).
TAINT_AT = 0.40
# A sentence this close to a point may carry its evidence (a number with a unit, a named piece
# of work): specifics near the point earn it even when the wording is far from the card's
# examples. Topical evidence (a model name with its size) needs no closeness at all.
EVIDENCE_AT = 0.40
# Partial credit ("the idea touched, without its specific"): the card's words for the idea in a
# sentence at least TOUCH_AT close to the point, or closeness in meaning alone of MEANING_AT
# (above 1: never) with no other point nearer by more than the margin. Both are chosen by
# leave-one-round-out over the rounds written by outside authors (`bench/lab_quality.py
# --loro`): TOUCH_AT 0.0 in every fold; MEANING_AT "never" in four of six folds (it was 0.60:
# closeness alone marked "5 epochs is pretty standard" as touching the cut in work, and a
# sentence about the platform reads as near to paying), so closeness alone earns nothing now.
TOUCH_AT = 0.0
MEANING_AT = 1.01
MEANING_MARGIN = 0.0
# The card's own words for a point (its ``terms``) show what a sentence is about, so a sentence
# carrying them needs less closeness, provided no other point is clearly nearer.
TERMS_AT = 0.30
NEAREST_MARGIN = 0.10
KIND_AT = 0.30
MAX_SENTENCES = 400  # a very long conversation is scored on its most recent sentences

# (and CJK stops; Thai ends a sentence with a space and no stop: a space between two runs of
# Thai is cut, one beside a Latin term or a number, "บน Kaggle ได้ 30 ชั่วโมง", is not)
# A stop after an abbreviation that stands before a number ("ok. 30 GPU-godzin", Polish
# "about"; "ca. 12 h", "approx. 6 GB") does not end the sentence (judge round 35's Polish plan).
_BEFORE_A_NUMBER = (
    "ok",
    "ca",
    "cca",
    "kb",
    "approx",
    "aprox",
    "env",
    "circa",
    "vs",
    "nr",
    "ungef",
    "ок",
    "прибл",
    "yakl",
)
_NOT_AFTER = "".join(rf"(?<!\b{a}\.)" for a in _BEFORE_A_NUMBER)
_SENTENCE_END = re.compile(
    rf"(?<=[.!?;])(?:{_NOT_AFTER}\s+|\s+(?=[^\s\d]))|(?<=[。！？；])\s*"
    rf"|(?<=[{THAI_LETTERS}])[^\S\n]+(?=[{THAI_LETTERS}])|\n+"
)


@dataclass(frozen=True)
class PointCoverage:
    id: str
    point: str
    status: str  # covered | partial | missing
    score: float  # 0..1 (cosine similarity, or the judge's verdict mapped to 1/0.5/0)
    quote: str  # the learner's own words that match best ("" when none)
    improvement: str = ""  # only set by a model judge
    evidence: str = ""  # the specific found ("named model with its size"), "" when none
    restated: bool = False  # the learner's nearest words only restated the point
    # why the debrief lowered the sentence-level verdict: "thin", "vague" or "performance" (see
    # debrief_verdict), "" when it did not
    stepped: str = ""


@dataclass(frozen=True)
class Coverage:
    points: tuple[PointCoverage, ...]
    method: str  # "embeddings" or "model"
    judge: str = ""  # who scored, in words ("sentence similarity and evidence checks", a model)
    # what the debrief made of the whole conversation (debrief_verdict): "performance", "thin",
    # "vague" or "" (the sentence-level verdict stands)
    lowered: str = ""

    @property
    def covered(self) -> int:
        return sum(p.status == "covered" for p in self.points)

    def status(self, point_id: str) -> str:
        return next(p.status for p in self.points if p.id == point_id)

    @property
    def uncovered(self) -> list[PointCoverage]:
        """Points not yet covered, least covered first (ties keep the card's order)."""
        rest = [p for p in self.points if p.status != "covered"]
        return sorted(rest, key=lambda p: p.score)


def split_sentences(text: str) -> list[str]:
    """Sentences (and clauses after semicolons) of ``text`` with at least two words, or one
    word with a digit in it (a reply that is just "Qwen2.5-7B-Instruct.")."""
    parts = (part.strip(" -*•\t") for part in _SENTENCE_END.split(text))
    return [
        part
        for part in parts
        if len(part.split()) >= 2
        or any(c.isdigit() for c in part)
        or len(UNSPACED.findall(part)) >= 4  # Chinese, Japanese or Thai: without spaces
    ]


def scored_units(scenario: Scenario, messages: Sequence[str]) -> tuple[list[str], bool]:
    """The learner's sentences that can earn credit (see :func:`_scored_units`), and whether any
    sentence restated a rubric point."""
    units, restated_any, _ = _scored_units(scenario, messages)
    return units, restated_any


def _scored_units(
    scenario: Scenario, messages: Sequence[str]
) -> tuple[list[str], bool, dict[str, str]]:
    """The learner's sentences that can earn credit, and pairs of neighbouring ones; and whether
    any sentence restated a rubric point.

    Dropped before scoring, so that they also never pair up with a neighbour: a sentence that
    restates a rubric point (eight words in a row of it), a sentence mostly copied from the
    card (:func:`card_texts`), a bare list of names, topics or numbers ("Stack: PyTorch, LoRA,
    Kaggle, Gradio"), and, unless it carries a checkable specific, a claim ("I've covered the
    costs", "my plan handles all of that"), hype (two buzzwords) or a question ("GPU hours?"). Only the learner's own messages come
    in: the character's lines and the card's text are never scored as the learner's.

    A sentence in another language is read through the glossary (:func:`gloss`: "30 horas" ->
    "30 hours", "todo resuelto" -> "everything handled") before all of this; the third value
    maps each such unit back to the learner's own words, for quoting.
    """
    from demos.lab.director import has_specifics, script_for

    rubric_texts = [point.point for point in scenario.rubric]
    card = card_texts(scenario)
    buzzwords = script_for(scenario).buzzwords
    facts = [scenario.brief, scenario.opening, *scenario.facts]
    units: list[str] = []
    restated_any = False
    originals: dict[str, str] = {}
    for message in messages:
        kept: list[str | None] = []
        read_back: set[int] = set()  # the card's facts restated: never a unit alone
        verse = is_verse(message)  # a poem of the card's words advises nothing
        for written, sentence in read_sentences(message):
            if sentence != written:
                originals[sentence] = written
            restated = restates(sentence, rubric_texts)
            restated_any |= restated
            own = card_words_removed(sentence, card)
            echo = len(words(own)) < COPIED_SHARE * len(words(sentence))
            bare = not has_specifics(sentence)
            # a specific of the learner's own, not a figure the card gave ("inside the $200")
            own_specific = has_specifics(without_card_numbers(own, card))
            # without a "Q:" or "Slide 2:" label; a heading ("Slide 2: Migration cost.") or a
            # one-word sentence says nothing
            # (a Markdown heading's marks are not words: "## Demo" is one word)
            content = _LABEL.sub("", sentence.lstrip("#> ")).split()
            empty = (
                is_list(sentence)
                or (is_labelled_list(sentence) and not own_specific)
                or (bare and is_claim(sentence))
                or (bare and is_hype(sentence, buzzwords))
                or (bare and sentence.rstrip().endswith("?") and len(content) <= QUESTION_WORDS)
                or (bare and sentence.rstrip().endswith(":"))  # announces what follows
                or (bare and len(content) < (3 if len(content) < len(sentence.split()) else 2))
                # one word that is only the card's own figure ("$200.") says nothing new
                or (len(content) < 2 and not own_specific)
                # forms that echo instead of answering (data/evidence.yaml: echo_forms)
                or is_hard_claim(sentence)
                # (a sentence read through the glossary keeps small words of its own language
                # that no list holds: "Guarda checkpoints no output a cada hora e recomeça daí")
                or (is_keyword_string(sentence) and sentence == written)
                or is_number_string(sentence)
                or (is_headline(sentence) and not own_specific)
                or verse
            )
            if not (restated or echo or empty) and reads_back_facts(
                sentence, scenario.facts, facts
            ):
                read_back.add(len(kept))
            kept.append(None if restated or echo or empty else sentence)
        alone = [s for i, s in enumerate(kept) if s is not None and i not in read_back]
        units += alone
        if CLAUSES:
            units += [c for s in alone for c in _clauses(s)]
        for i, (a, b) in enumerate(zip(kept, kept[1:], strict=False)):
            if {i, i + 1} <= read_back:
                continue  # two restated facts make no claim either
            if a and b:
                units.append(f"{a} {b}")
                if a in originals or b in originals:
                    originals[units[-1]] = f"{originals.get(a, a)} {originals.get(b, b)}"
        for s in kept:
            if s is not None and s in originals:
                originals.update({c: originals[s] for c in _clauses(s) if c not in originals})
    return units[-MAX_SENTENCES:], restated_any, originals


# Verse: three lines or more, each of a few words, none ending as a sentence or a label does,
# none a bullet or a numbered item (judge rounds 27 and 28: two authors, independently, gamed
# the free-compute scenario in haiku that named the card's platforms and figures line by line).
VERSE_LINES = 3
VERSE_WORDS = 7
_VERSE_BREAK = re.compile(r"[.!?:;。！？：；)]\s*$|^\s*([-*•>#]|\d+[.)]|[A-Za-z][.)])\s")


def is_verse(message: str) -> bool:
    """True when ``message`` is written as a poem: at least three short lines with no
    sentence's end, label or list mark among them. Advice typed line by line ends its lines
    or marks them as a list; the judge reads a list apart (``is_list``)."""
    lines = [line for line in message.splitlines() if line.strip()]
    return len(lines) >= VERSE_LINES and all(
        len(line.split()) <= VERSE_WORDS and not _VERSE_BREAK.search(line) for line in lines
    )


def read_sentences(message: str) -> list[tuple[str, str]]:
    """Each sentence of ``message`` as written and as the judge reads it: a sentence in another
    language through the glossary (:func:`gloss`), English as it is."""
    foreign = looks_foreign(message)
    return [
        (
            written,
            gloss(written, looks_foreign(written) or (foreign and not looks_english(written))),
        )
        for written in split_sentences(message)
    ]


def _opposed(scenario: Scenario, messages: Sequence[str]) -> set[str]:
    """The rubric points whose opposite stance (``against:`` in the card) these messages take,
    read as the judge reads them: such a point earns nothing anywhere in the conversation."""
    from demos.lab.director import script_for

    script = script_for(scenario)
    read = [sentence for m in messages for _, sentence in read_sentences(m)]
    return {
        point.id
        for point in scenario.rubric
        if (stance := script.point(point.id).against) is not None and stance.taken_in(read)
    }


CLAUSES = True
_CLAUSE_SPLIT = re.compile(r",\s+(?:and\s+|then\s+|but\s+|so\s+)?|\s+(?:and then|but|so that)\s+")


def _clauses(sentence: str) -> list[str]:
    """The clauses of a long sentence that carry a thought of their own (four words or more):
    "Debug on Colab, then do the long run on Kaggle and write a checkpoint every 500 steps"
    is about two points; each clause is scored as well as the whole."""
    parts = [p.strip() for p in _CLAUSE_SPLIT.split(sentence)]
    parts = [p for p in parts if len(p.split()) >= 4]
    return parts if len(parts) >= 2 else []


# A short question ("GPU hours?", "What is the baseline?") asks instead of answering.
QUESTION_WORDS = 5
_LABEL = re.compile(r"^\s*[\w ]{1,20}:\s*")
# A sentence with less than this share of its words its own (the rest copied from the card:
# the brief, the facts, the character's lines) echoes the card and earns nothing.
COPIED_SHARE = 0.5


def card_texts(scenario: Scenario) -> list[str]:
    """The scenario's own words: brief, opening, facts and every line the character may say
    (reveals, presses, acknowledgements, pushback...). Never scored as the learner's."""
    from demos.lab.director import script_for

    script = script_for(scenario)
    texts = [scenario.brief, scenario.opening, *scenario.facts]
    texts += [r.say for r in script.reveals]
    for lines in (script.pushback, script.deflect, script.turn_back, script.closing):
        texts += list(lines)
    for point in script.points.values():
        texts += [*point.press, *point.acknowledge]
    return texts


def learner_units(messages: Sequence[str]) -> list[str]:
    """What gets scored: each sentence, plus each pair of neighbouring sentences of a message."""
    units: list[str] = []
    for message in messages:
        sentences = split_sentences(message)
        units += sentences
        units += [f"{a} {b}" for a, b in zip(sentences, sentences[1:], strict=False)]
    return units[-MAX_SENTENCES:]


# How many sentence vectors the embedder keeps (about 1.5 KB each).
CACHE_TEXTS = 20_000


class Embedder:
    """Mean-pooled, L2-normalised sentence embeddings from a BERT-style encoder (MiniLM)."""

    def __init__(self, ref: str):
        self.ref = ref
        self._model, self._tokenizer = compute.call(hub.load_model, ref, "base")
        self._cache: dict[str, object] = {}
        self._lock = threading.Lock()

    def encode(self, texts: Sequence[str]):
        """A (len(texts), dim) float tensor of unit vectors; known texts come from a cache.

        The arithmetic runs on the lab's compute thread (see :mod:`demos.lab.compute`)."""
        return compute.call(self._encode, list(texts))

    def _encode(self, texts: list[str]):
        import torch

        with self._lock:
            found = {t: self._cache[t] for t in dict.fromkeys(texts) if t in self._cache}
        missing = [t for t in dict.fromkeys(texts) if t not in found]
        for start in range(0, len(missing), 64):
            batch = missing[start : start + 64]
            encoded = self._tokenizer(
                batch, padding=True, truncation=True, max_length=128, return_tensors="pt"
            ).to(self._model.device)
            with torch.inference_mode():
                hidden = self._model(**encoded).last_hidden_state
            mask = encoded["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            vectors = torch.nn.functional.normalize(pooled, dim=-1).float().cpu()
            found.update(zip(batch, vectors, strict=True))
            with self._lock:
                # learner sentences are many, points are few: start again when full (this
                # call's own vectors are kept in ``found``, so clearing never loses one)
                if len(self._cache) + len(batch) > CACHE_TEXTS:
                    self._cache.clear()
                self._cache.update(zip(batch, vectors, strict=True))
        return torch.stack([found[t] for t in texts]) if texts else torch.zeros(0, 384)

    def similarity(self, texts_a: Sequence[str], texts_b: Sequence[str]) -> list[list[float]]:
        """Cosine similarities, one row per text of ``texts_a``."""
        a, b = list(texts_a), list(texts_b)
        return compute.call(lambda: (self._encode(a) @ self._encode(b).T).tolist())


_embedders: dict[str, Embedder] = {}
_embedders_lock = threading.Lock()


def get_embedder(ref: str) -> Embedder:
    """One :class:`Embedder` per model reference per process."""
    with _embedders_lock:
        if ref not in _embedders:
            _embedders[ref] = Embedder(ref)
        return _embedders[ref]


def _status(score: float) -> str:
    if score >= COVERED_AT:
        return "covered"
    if score >= PARTIAL_AT:
        return "partial"
    return "missing"


def score_by_embeddings(
    scenario: Scenario, learner_messages: Sequence[str], embedder: Embedder
) -> Coverage:
    """Each point's verdict from the learner's own sentences, offline.

    A sentence that restates a rubric point (six words in a row of it) earns nothing. A point
    whose card lists evidence (``evidence: [model-with-size]``) is covered only by a sentence
    near it (cosine at least :data:`EVIDENCE_AT`) that carries that evidence; near words without
    it earn "partial". A point without evidence keeps the plain similarity thresholds.
    """
    from demos.lab.director import has_specifics, script_for

    if not learner_messages:
        return empty_coverage(scenario)
    script = script_for(scenario)
    units, restated_any, originals = _scored_units(scenario, learner_messages)
    units = _without_agendas(scenario, units, embedder)
    # other languages: MiniLM's closeness says less there (see :data:`FOREIGN_AT`)
    foreign = [looks_foreign(originals.get(unit, unit)) for unit in units]
    points = []
    by_point = point_scores(scenario, units, embedder) if units else []
    # Numbers, prices and names count only in the learner's own words: "$200 a month" copied
    # from the card's facts is not the learner's cost arithmetic (see _evidence_in).
    card = card_texts(scenario)
    own_units = [card_words_removed(unit, card) for unit in units]
    figures_own = [card_figures_removed(unit, card) for unit in units]
    opposed = _opposed(scenario, learner_messages)
    # a confident but wrong specific ("Kaggle gives 30 GPU-hours a day", "bf16 on the T4", a
    # figure worked out wrong: "a 3B model in fp16 is 24 GB"):
    # the sentence, its clauses and the pairs it is in earn partial credit at most
    wrong_said = [unit for unit in units if script.is_wrong(unit) or wrong_arithmetic(unit)]
    # ...or begun earlier and ended in this sentence ("I'd pick Llama-3.1-8B. [...] It's Apache
    # 2.0, so no strings attached"): the subject a sentence or a message before
    conversation = "\n".join(" ".join(s for _, s in read_sentences(m)) for m in learner_messages)
    across: dict[str, set[str]] = {}
    for unit in units:
        at = conversation.find(unit)
        if unit not in wrong_said and at > 0:
            about = script.wrong_across(conversation[:at].rstrip(), unit)
            if about is not None:
                across[unit] = about
    wrong_said += list(across)
    wrong = [any(unit in said or said in unit for said in wrong_said) for unit in units]
    # (a figure beside it is a reason: "compute isn't an issue, it trains on my CPU in an hour")
    waving = [unit for unit in units if dismisses(unit) and not has_specifics(unit, names=False)]
    waved = [any(unit in said or said in unit for said in waving) for unit in units]
    # ...and the point such a sentence serves (the one it is nearest, if near enough) earns
    # partial at most anywhere in the conversation: a figure derived from a wrong one ("625
    # steps" then "so ~1.7 hours") is as wrong, and outside authors label the point partial.
    # (the wrong sentence itself or clause, not a pair of sentences around it)
    least = {u for u in wrong_said if not any(o != u and o in u for o in wrong_said)}
    # the points whose own wrong: each such sentence matches (none for a scenario-wide one)
    about = {u: across.get(u) or script.wrong_about(u) for u in least}
    # (in another language, read through the glossary, MiniLM's closeness runs low and flat:
    # there the sentence need only be as near as a foreign unit must be to carry evidence)
    tainted = {
        _served(scenario, script, unit, own, row)
        for unit, own, row, far in zip(units, own_units, by_point, foreign, strict=True)
        if unit in least
        and max(row) >= (FOREIGN_AT if far else TAINT_AT)
        # a point's own wrong fact taints that point (below), not whichever point is nearest
        and not about[unit]
    } | {
        index
        for index, point in enumerate(scenario.rubric)
        if any(point.id in points for points in about.values())
    }
    for index, point in enumerate(scenario.rubric):
        if not units:
            points.append(
                PointCoverage(point.id, point.point, "missing", 0.0, "", restated=restated_any)
            )
            continue
        targets = [point.point, *point.examples]
        # a conversation that argues against the point earns it nothing
        against = [point.id in opposed] * len(units)
        scores = [0.0 if against[i] else max(0.0, row[index]) for i, row in enumerate(by_point)]
        best_unit = max(range(len(units)), key=lambda i: scores[i])
        best = scores[best_unit]
        checks = script.point(point.id).evidence
        found = ""
        if checks:
            backed = []
            # evidence in a sentence with a wrong specific earns partial credit, not nothing
            wrong_backed = []
            for i, unit in enumerate(units):
                if against[i]:
                    continue
                check = _evidence_in(checks, unit, own_units[i], figures_own[i])
                if check is not None and _about(by_point[i], index, check, unit, foreign[i]):
                    (wrong_backed if wrong[i] else backed).append((scores[i], i, check))
            if backed:
                score, best_unit, check = max(backed, key=lambda item: item[0])
                found = check.says
                status = "covered"
                best = max(score, COVERED_AT)
            else:
                touch = script.point(point.id).touch
                touched = [
                    i
                    for i, row in enumerate(by_point)
                    if not against[i]
                    # a topic waved away is not touched ("compute shouldn't be an issue"), nor
                    # by a clause or a pair of sentences around the sentence that waves it away
                    and not waved[i]
                    and (
                        _touches(row, index, own_units[i], touch)
                        or _half_evidence(checks, units[i], own_units[i], row, index, foreign[i])
                    )
                ] + [i for _, i, _ in wrong_backed]
                if touched:
                    best_unit = max(touched, key=lambda i: scores[i])
                status = "partial" if touched else "missing"
                best = scores[best_unit]
                best = min(best, COVERED_AT - 0.01)
        else:
            status = _status(best)
            if status == "covered" and wrong[best_unit]:
                status = "partial"
        if status == "covered" and index in tainted:
            status = "partial"
            best = min(best, COVERED_AT - 0.01)
        quote = _best_sentence(units[best_unit], targets, embedder) if status != "missing" else ""
        quote = _whole_sentence(originals.get(quote, quote), learner_messages)
        points.append(
            PointCoverage(
                point.id,
                point.point,
                status,
                round(best, 3),
                quote,
                evidence=found,
                restated=restated_any and status == "missing",
            )
        )
    return Coverage(tuple(points), "embeddings", OFFLINE_JUDGE)


OFFLINE_JUDGE = "sentence similarity and evidence checks (offline)"

# A thin conversation. Where the offline judge finds at most this many points covered, the
# conversation gave almost no checkable specific anywhere: its touched topics earn nothing, and
# its one covered point earns partial credit. On transcripts the judge had never seen, such
# "partial" points were labelled missing 95 times and partial 58 (gaming transcripts spray the
# card's topic words; a weak one touches a topic in passing), and such lone "covered" points
# were labelled covered 3 times in 28 (six rounds). Fitted on the verdicts the judge of the day
# gave each sealed round before it was read (`bench/lab_judge_calibration.py`; ten rounds now):
# leave one round out, every fold picks this setting, and agreement goes from 64.4% to 71.7%.
# With the advice head, a thin conversation that plainly advises (its probability of performing
# below the head's ``advises_below``) keeps its touched topics' partial credit; with the head's
# "performance" verdict too, 76.2% (the four fresh rounds since: 72.0, 69.7, 72.7, 73.5%).
THIN_COVERED = 1
_THINNER = {"partial": "missing", "covered": "partial"}


def debrief_verdict(coverage: Coverage, reading: str = "", vague: bool = False) -> Coverage:
    """The offline debrief's verdict from the sentence-level ``coverage``.

    ``reading`` is the advice head's reading of the whole conversation (:func:`advice_reading`):
    "performance" (it performs for the grader rather than advising), "advice" (it plainly
    advises), or "" (neither is clear, or there is no head). ``vague``: the vagueness head reads
    the conversation as tentative or general (:func:`conversation_reading`). A performance earns
    nothing. In a thin conversation (at most :data:`THIN_COVERED` points covered) the lone
    covered point steps down to partial, and touched topics step down to missing unless the
    conversation plainly advises, or reads as tentative advice on two topics or more.
    Otherwise, in a vague conversation no point earns more than partial. Quotes and evidence are
    kept and each lowered point says why (``stepped``), for the coach. The live meter keeps the sentence-level verdict (its "touched on" count nudges the
    learner on); a model judge's verdict is never changed."""
    if coverage.method != "embeddings":
        return coverage
    if reading == "performance":
        points = tuple(
            replace(p, status="missing", stepped="performance") if p.status != "missing" else p
            for p in coverage.points
        )
        return replace(coverage, points=points, lowered="performance")
    # a conversation the vagueness head reads as tentative, touching two topics or more, advises,
    # if vaguely: its touched topics are its partial points (dev transcripts: 82.9% -> 83.6%);
    # one topic touched in passing ("cost shouldn't be a problem") is no advice
    touched = sum(p.status == "partial" for p in coverage.points)
    advises = reading == "advice" or (vague and touched >= 2)
    down = {"covered": "partial"} if advises else _THINNER
    if coverage.covered <= THIN_COVERED and any(p.status in down for p in coverage.points):
        return _lowered(coverage, down, "thin")
    if vague and coverage.covered:
        return _lowered(coverage, {"covered": "partial"}, "vague")
    return coverage


def _lowered(coverage: Coverage, down: dict[str, str], why: str) -> Coverage:
    points = tuple(
        replace(p, status=down[p.status], stepped=why) if p.status in down else p
        for p in coverage.points
    )
    return replace(coverage, points=points, lowered=why)


def offline_verdict(
    scenario: Scenario, learner_messages: Sequence[str], embedder: Embedder
) -> Coverage:
    """The offline debrief: the sentence-level verdict, lowered by :func:`debrief_verdict`."""
    coverage = score_by_embeddings(scenario, learner_messages, embedder)
    return debrief_verdict(coverage, *conversation_reading(learner_messages, embedder))


def conversation_sentences(learner_messages: Sequence[str]) -> list[str]:
    """Every sentence of the learner's messages, in order: what the advice head reads."""
    return [s for message in learner_messages for s in split_sentences(message)]


def advice_reading(learner_messages: Sequence[str], embedder: Embedder) -> str:
    """The advice head's reading of these messages together (:mod:`demos.lab.advice_head`):
    "performance" at or above its ``threshold``, "advice" below its ``advises_below``, else ""
    (and "" when there is no head)."""
    return conversation_reading(learner_messages, embedder)[0]


def conversation_reading(learner_messages: Sequence[str], embedder: Embedder) -> tuple[str, bool]:
    """Both heads' reading of these messages together (:mod:`demos.lab.advice_head`): the advice
    head's (as :func:`advice_reading`), and whether the vagueness head reads them as tentative or
    general (at or above its ``threshold``). ("", False) when there are no heads."""
    from demos.lab.advice_head import VAGUE_FILE, conversation_vector, load_head, probability

    sentences = conversation_sentences(learner_messages)
    heads = load_head(), load_head(VAGUE_FILE)
    if not sentences or heads == (None, None):
        return "", False
    vector = conversation_vector(embedder, sentences)
    reading = ""
    if heads[0] is not None:
        performs = probability(embedder, heads[0], vector)
        if performs >= heads[0].threshold:
            reading = "performance"
        elif performs < heads[0].advises_below:
            reading = "advice"
    vague = heads[1] is not None and probability(embedder, heads[1], vector) >= heads[1].threshold
    return reading, vague


HEDGE_CAP = True


# In another language (read through the glossary) MiniLM's similarities run low and flat, so a
# unit carrying a point's evidence is about it when the point is among its nearest (within
# NEAREST_MARGIN) and at least this close; and the point's evidence that falls short of that
# still earns partial credit.
FOREIGN_AT = 0.15


def _about(
    row: Sequence[float], index: int, check: Check, unit: str = "", foreign: bool = False
) -> bool:
    """Whether a unit carrying ``check``'s evidence speaks about point ``index`` (``row``: the
    unit's closeness to every point): topical evidence always does; otherwise the unit must be
    near the point (:data:`EVIDENCE_AT`), or, when the evidence is the card's own words for
    this point (its ``terms``), near enough (:data:`TERMS_AT`) with this point among the
    unit's nearest (within :data:`NEAREST_MARGIN` of its best)."""
    score = row[index]
    if HEDGE_CAP and isinstance(check, Terms | AllOf) and is_hedged(unit):
        return False  # "Kaggle might be better", "Colab or Kaggle, whichever": no choice made
    if check.topical or score >= EVIDENCE_AT:
        return True
    if foreign:
        return score >= FOREIGN_AT and score >= max(row) - NEAREST_MARGIN
    if isinstance(check, Terms):
        return score >= TERMS_AT and score >= max(row) - NEAREST_MARGIN
    return score >= KIND_AT and score >= max(row)


# Points this near a sentence's nearest are a tie for the point it serves (:func:`_served`).
SERVED_MARGIN = 0.03


def _served(scenario: Scenario, script, unit: str, own: str, row: Sequence[float]) -> int:
    """The rubric point a sentence serves: its nearest; where points tie for nearest (within
    :data:`SERVED_MARGIN`, as in another language, where closeness runs flat), the one whose
    ``touch:`` words it uses ("it turns on mixed precision automatically": what Lightning does,
    not the plan)."""
    nearest = max(range(len(row)), key=lambda j: row[j])
    tied = [j for j in range(len(row)) if row[j] >= row[nearest] - SERVED_MARGIN]
    touched = [j for j in tied if _touch_in(script.point(scenario.rubric[j].id).touch, own)]
    return max(touched, key=lambda j: row[j]) if touched else nearest


def _touches(row: Sequence[float], index: int, unit: str, touch: Terms | None) -> bool:
    """Whether a unit touches point ``index`` (partial credit): it uses the card's words for
    the idea (``touch:``) and is not wholly elsewhere (:data:`TOUCH_AT`); or, when
    :data:`MEANING_AT` is at most 1 (it is not: closeness alone proved no signal on the
    outside-authored rounds), it is that close in meaning with no other point clearly nearer."""
    score = row[index]
    if _touch_in(touch, unit) and score >= TOUCH_AT:
        return True
    return score >= MEANING_AT and score >= max(row) - MEANING_MARGIN


def _half_evidence(
    checks: Sequence[Check], unit: str, own: str, row: Sequence[float], index: int, foreign: bool
) -> bool:
    """Partial credit from the evidence itself: the first part of a two-part specific (the
    idea: "start from bert-base-cased" without a baseline, "Kaggle" without its hours), said
    about this point; in another language, any of the point's evidence (the similarity that
    would confirm it says little there). The later parts qualify the idea ("measured",
    "30 steps") and say nothing on their own."""
    if foreign and _evidence_in(checks, unit, own) is not None:
        return True
    for check in checks:
        if isinstance(check, AllOf) and _evidence_in(check.parts[:1], unit, own) is not None:
            # a topical pair's idea is about the point wherever said (a model name, a failure)
            part = replace(check.parts[0], topical=check.topical)
            if _about(row, index, part, unit, foreign):
                return True
    return False


def _evidence_in(
    checks: Sequence[Check], unit: str, own: str, figures_own: str | None = None
) -> Check | None:
    """The first check ``unit`` satisfies: a kind (a number with a unit, a price, a model
    name) in the learner's own words (``own``: the unit without the stretches copied from the
    card); the card's own terms for a point ("4-GPU", "next quarter") anywhere in it, since
    citing the scenario's facts is what such a point asks for, but a unit word ("GB") not
    beside the card's own figure ("15 GB"): ``figures_own`` is the unit without those."""
    terms_text = unit if figures_own is None else figures_own
    for check in checks:
        if isinstance(check, AllOf):
            if check.found_in_own(unit, own):
                return check
        elif check.found_in(terms_text if isinstance(check, Terms) else own):
            return check
    return None


def empty_coverage(scenario: Scenario) -> Coverage:
    """Nothing said yet: every point missing (no model needed)."""
    points = tuple(PointCoverage(p.id, p.point, "missing", 0.0, "") for p in scenario.rubric)
    return Coverage(points, "embeddings", OFFLINE_JUDGE)


AGENDA_POINTS = 3  # a sentence near this many points at once, with no specific, is an agenda


def point_scores(scenario: Scenario, units: Sequence[str], embedder: Embedder) -> list[list[float]]:
    """For each unit, its best cosine with each rubric point (the point or one of its examples),
    in one similarity call."""
    targets: list[str] = []
    spans = []
    for point in scenario.rubric:
        start = len(targets)
        targets += [point.point, *point.examples]
        spans.append((start, len(targets)))
    matrix = embedder.similarity(units, targets)
    return [[max(row[a:b]) for a, b in spans] for row in matrix]


def _without_agendas(scenario: Scenario, units: list[str], embedder: Embedder) -> list[str]:
    """``units`` without agendas: a list-shaped sentence that touches several points at once
    ("the model, the cost and quality all matter") without one checkable specific, and without
    the evidence of any point it touches, announces an answer instead of giving it, and earns
    nothing. ("The Trainer runs backward and the optimizer step, handles checkpointing and
    logging, and gives us DDP" touches several points too, but names the parts: it stays.)"""
    from demos.lab.director import has_specifics, script_for

    script = script_for(scenario)
    agendas = set()
    # the card's words for several points at once and no specific: a checklist, whatever its
    # shape ("My advice covers everything: the GPU hours, the memory, the platform ...")
    for unit_index, unit in enumerate(units):
        if has_specifics(unit):
            continue
        touched = [p for p in scenario.rubric if _touch_in(script.point(p.id).touch, unit)]
        if len(touched) >= AGENDA_POINTS and not any(
            evidence_found(script.point(p.id).evidence, unit) for p in scenario.rubric
        ):
            agendas.add(unit_index)
    # and its clauses are the checklist's items ("the platform", "saving progress")
    lists = [units[i] for i in agendas]
    agendas |= {i for i, u in enumerate(units) if any(u in agenda for agenda in lists)}
    candidates = [i for i, u in enumerate(units) if u.count(",") >= 2 and i not in agendas]
    if not candidates:
        return [u for i, u in enumerate(units) if i not in agendas]
    scores = point_scores(scenario, [units[i] for i in candidates], embedder)
    for row, unit_index in zip(scores, candidates, strict=True):
        near = [
            point for point, score in zip(scenario.rubric, row, strict=True) if score >= PARTIAL_AT
        ]
        unit = units[unit_index]
        if len(near) < AGENDA_POINTS or has_specifics(unit):
            continue
        if any(evidence_found(script.point(point.id).evidence, unit) for point in near):
            continue
        agendas.add(unit_index)
    return [u for i, u in enumerate(units) if i not in agendas]


def _touch_in(touch: Terms | None, unit: str) -> bool:
    return touch is not None and touch.found_in(unit)


def _whole_sentence(quote: str, learner_messages: Sequence[str]) -> str:
    """The learner's whole sentence around ``quote`` when it is one clause of it (a clause is
    scored on its own, but the debrief quotes what the learner wrote, not a fragment)."""
    if not quote:
        return quote
    for message in learner_messages:
        for sentence in split_sentences(message):
            if quote in sentence:
                return sentence
    return quote


def _best_sentence(unit: str, targets: Sequence[str], embedder: Embedder) -> str:
    """The single sentence of a (possibly two-sentence) unit that matches the targets best."""
    sentences = split_sentences(unit)
    if len(sentences) <= 1:
        return unit
    matrix = embedder.similarity(sentences, targets)
    return sentences[max(range(len(sentences)), key=lambda i: max(matrix[i]))]


# ----------------------------------------------------------------------------- model judge


def judge_prompt(scenario: Scenario, learner_messages: Sequence[str]) -> str:
    """The prompt asking a capable model to grade coverage (JSON out)."""
    points = "\n".join(f"- {p.id}: {p.point}" for p in scenario.rubric)
    messages = "\n".join(f"[{i + 1}] {m}" for i, m in enumerate(learner_messages)) or "(none)"
    facts = "\n".join(f"- {fact}" for fact in scenario.facts)
    return prompt_texts().judge.format(
        title=scenario.title, brief=scenario.brief, points=points, messages=messages, facts=facts
    )


def without_restatements(scenario: Scenario, learner_messages: Sequence[str]) -> list[str]:
    """The learner's messages with every sentence that restates a rubric point taken out."""
    rubric_texts = [point.point for point in scenario.rubric]
    kept = []
    for message in learner_messages:
        sentences = split_sentences(message) or [message]
        clean = [s for s in sentences if not restates(s, rubric_texts)]
        if clean:
            kept.append(" ".join(clean))
    return kept


_QUOTED = re.compile(r"[\"“”]([^\"“”]{12,})[\"“”]")


def quotes_are_sourced(text: str, sources: Sequence[str]) -> bool:
    """True when every quotation in ``text`` comes from ``sources`` (the learner's own words and
    the scenario's facts): a judge's advice must not put words in anyone's mouth."""
    said = _normalise(" ".join(sources))
    return all(_normalise(q) in said for q in _QUOTED.findall(text))


def _normalise(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9$%]+", text.lower()))


def parse_judgement(
    raw: str,
    scenario: Scenario,
    learner_messages: Sequence[str],
    fallback: Coverage,
    judge_label: str = "a model",
) -> Coverage:
    """Read a judge's JSON; keep only verified quotes (found in the learner's own messages).

    A point the judge skipped or garbled keeps the embedding verdict from ``fallback``. A point
    the judge calls covered without the evidence its card asks for (see
    :mod:`demos.lab.evidence`) is partial; advice quoting words from outside the conversation
    and the scenario's facts is dropped (the offline advice replaces it).
    Raises ValueError when no JSON object can be found.
    """
    from demos.lab.director import script_for

    script = script_for(scenario)
    match = re.search(r"\{.*\}", raw, re.DOTALL)
    if not match:
        raise ValueError("the judge's answer holds no JSON object")
    data = json.loads(match.group(0))
    verdicts = {
        str(item.get("id")): item
        for item in data.get("points", [])
        if isinstance(item, dict) and item.get("status") in STATUSES
    }
    said = _normalise(" ".join(learner_messages))
    points = []
    for old in fallback.points:
        verdict = verdicts.get(old.id)
        if verdict is None:
            points.append(old)
            continue
        status = verdict["status"]
        quote = str(verdict.get("quote") or "").strip().strip('"')
        if not quote or _normalise(quote) not in said:
            quote = old.quote  # a quote the learner never wrote is replaced by a real one
        improvement = str(verdict.get("improvement") or "").strip()
        if not quotes_are_sourced(improvement, [*learner_messages, *scenario.facts]):
            improvement = ""
        if status == "covered" and script.point(old.id).evidence and not old.evidence:
            status = "partial"  # the card asks for a checkable specific the learner never gave
        score = {"covered": 1.0, "partial": 0.5, "missing": 0.0}[status]
        points.append(
            replace(
                old,
                status=status,
                score=score,
                quote=quote if status != "missing" else "",
                improvement=improvement,
            )
        )
    return Coverage(tuple(points), "model", judge_label)


def score_coverage(
    scenario: Scenario,
    learner_messages: Sequence[str],
    embedder: Embedder,
    judge: Callable[[str], str] | None = None,
    judge_label: str = "a model",
) -> Coverage:
    """Coverage by embeddings, refined by ``judge(prompt) -> text`` when one is given and works;
    without one (or when it fails), the offline debrief's verdict (:func:`debrief_verdict`).

    The judge reads the learner's messages without the sentences that restate a rubric point.
    """
    own_words = without_restatements(scenario, learner_messages)
    if judge is None or not own_words:
        return offline_verdict(scenario, learner_messages, embedder)
    by_embeddings = score_by_embeddings(scenario, learner_messages, embedder)
    try:
        return parse_judgement(
            judge(judge_prompt(scenario, own_words)),
            scenario,
            own_words,
            by_embeddings,
            judge_label,
        )
    except Exception:  # a judge that fails or rambles leaves the offline verdict standing
        return debrief_verdict(by_embeddings, *conversation_reading(learner_messages, embedder))

"""The director: the scenario card decides the character's next move; a model only phrases it.

Following Duolingo's role-play (several small prompts around the conversation) and the Mollicks'
simulators (persona, goal and grading kept apart), each turn the director reads the card and the
conversation and picks one move: reveal a fact the learner asked about, acknowledge a point made
with specifics and press on the next one, push back on a vague claim, stay in role when the
learner tries to leave it, or close. A move carries the director's own in-character line (from
the card), so the character can speak alone when no good model is there; with a capable model,
the move becomes a short instruction the model phrases in its own words.

The card's director data (under ``scenario:`` in the lesson's front matter)::

    director:
      voice: {avoid: ["fantastic", "!"]}          # words this character never says
      reveals:                                     # facts given when asked
        - {fact: 1, ask: ["what is the budget"], say: "Two hundred a month, all in."}
      pushback: ["That's a slogan. Which model, at what cost?"]
      buzzwords: ["best practice"]                 # a message with one earns `buzzword_pushback`
      buzzword_pushback: ["'Best practice' according to whom?"]
      deflect: ["I don't do games. {press}"]       # when the learner tries to leave the scenario
      turn_back: ["You're the consultant. {press}"]  # a question the card has no fact for
      closing: ["That's a plan I can take upstairs."]
    rubric:
      - id: ...
        topic: "the model"                         # shown in the meter before the debrief
        evidence: [model-with-size]                # see demos/lab/evidence.py
        fact: 3                                    # the card fact this point is argued from
        press: ["Which model, exactly? Name and size."]
        acknowledge: ["A 1.5B model on our own account. That I can check."]
        advice: "Name the model and its size, and what its model card says."

Pure logic: no Gradio, no model (a similarity function may be passed in).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

from demos.course import Scenario
from demos.lab.evidence import (
    Check,
    EvidenceError,
    Terms,
    evidence_found,
    gloss,
    looks_english,
    parse_checks,
)
from demos.lab.prompts import as_sentence, fact_for_points, prompt_texts

Similarity = Callable[[Sequence[str], Sequence[str]], list[list[float]]]
REVEAL_AT = 0.45  # a question this close (cosine) to a reveal's ways of asking gets that fact
# A question typed without its question mark: it starts with a question word (English, French,
# Spanish, German, Portuguese, Italian, Dutch, Swedish, Polish, Czech, Russian, Ukrainian,
# Indonesian, Vietnamese, Hindi, Arabic)...
_QUESTION_START = re.compile(
    r"^\s*(what|how|which|who|whom|whose|when|why|where|do|does|did|is|are|was|were|can|could|"
    r"would|should|will|shall|have|has|may|might|any|quel|quelle|quels|combien|comment|pourquoi|"
    r"qu'|est-ce|o[uù]|quand|cu[aá]l|cu[aá]les|cu[aá]nto|cu[aá]ntos|cu[aá]ntas|c[oó]mo|qu[eé]|"
    r"por qu[eé]|d[oó]nde|cu[aá]ndo|was|wie|wieviel|wie viele?|welche[rsn]?|warum|wann|wo|wer|"
    r"kann|k[oö]nnen|soll|sollen|gibt es|qual|quais|quanto|quantos|quantas|como|onde|quando|"
    r"quale|quali|quanti|quante|come|perch[eé]|dove|wat|hoe|welke|waarom|wanneer|hoeveel|vad|hur|"
    r"vilken|vilka|varf[oö]r|n[aä]r|czy|jak|jaki|jaka|jakie|kt[oó]ry|kt[oó]ra|ile|dlaczego|kiedy|"
    r"kolik|pro[cč]|kdy|kter[yý]|kter[aá]|что|как|какой|какая|какие|сколько|почему|когда|зачем|"
    r"можно ли|що|як|який|яка|які|скільки|чому|коли|чи|apa|apakah|bagaimana|berapa|kenapa|"
    r"mengapa|kapan|bisakah|t[aạ]i sao|bao nhi[eê]u|khi n[aà]o|l[aà]m sao|"
    r"क्या|कैसे|कितना|कितने|कितनी|क्यों|कब|kya|kaise|kitna|kitne|kitni|kyun|kyon|"
    r"هل|ماذا|كيف|كم|لماذا|متى|أين)(?![\w'])",
    re.IGNORECASE,
)
# ...or ends with a question particle or word (Japanese, Chinese, Korean, Thai, Turkish,
# Vietnamese, Hindi), before any closing stop or Thai polite particle: "Colabで足りますか",
# "要多少钱", "몇 시간이면 될까요", "ใช้ GPU กี่ชั่วโมงครับ", "Kaggle yeter mı", "có đủ không".
# ("とか", "or so", is not a question; nor is "ไม่มีอะไร", "nothing"; Turkish "mi" is left out, as
# Spanish and Italian "mi" end statements.)
_QUESTION_END = re.compile(
    r"((?<!と)か|かな|吗|嗎|呢|多少|什么|怎么样|까|까요|나요|죠|ไหม|มั้ย|หรือเปล่า|หรือยัง|"
    r"(?<!ไม่มี)อะไร|ยังไง|อย่างไร|เท่าไร|เท่าไหร่|ทำไม|ที่ไหน|เมื่อไร|เมื่อไหร่|บ้าง|"
    r"(?<![\w'])(m[ıuü]|m[ıiuü]s[ıiuü]n|m[ıiuü]y[ıiuü]z|kh[oô]ng|ch[uư]a|kya|na))"
    r"\s*(ครับ|คะ|ค่ะ|นะ|จ้ะ)?\s*[.。!！…]*$"
)  # matched against the lowered text, without IGNORECASE: to `re` that makes Turkish "ı" an "i"
# Thai and Chinese ask "how many", "how", "which" or "why" mid-sentence: "ใช้เวลากี่ชั่วโมง",
# "要多少钱" (not "没什么", "nothing").
_ASKS_WITHIN = re.compile(
    r"กี่|多少|怎么|怎麼|哪个|哪個|哪些|为什么|為什麼|(?<![没沒])什[么麼](?!都)"
)


class DirectorError(ValueError):
    """A scenario card's director data is malformed; the message names the field."""


@dataclass(frozen=True)
class Reveal:
    fact: str
    ask: tuple[str, ...]
    say: str


@dataclass(frozen=True)
class PointScript:
    id: str
    topic: str
    evidence: tuple[Check, ...]
    fact: str
    press: tuple[str, ...]
    acknowledge: tuple[str, ...]
    advice: str
    # Words that show the point's idea touched (partial credit at most; ``touch:`` in the card)
    touch: Terms | None = None
    # The opposite stance (``against:`` in the card): see :class:`Stance`
    against: Stance | None = None
    # Confident but wrong specifics about this point's own subject (``wrong:`` under the point):
    # a sentence stating one earns partial credit at most, like the scenario's ``wrong:``, and
    # caps this point at partial across the conversation however far its wording is from the
    # point's ("Lightning compiles the graph" is about what Lightning does)
    wrong: tuple[re.Pattern[str], ...] = ()


@dataclass(frozen=True)
class Stance:
    """A rubric point's opposite stance, as data (``against: {says: [...], unless: [...]}``).

    A conversation with a learner's sentence matching one of ``says`` ("a full fine-tune fits
    with room to spare") and none matching ``unless`` (the fix named anywhere: "QLoRA") argues
    against the point, which then earns nothing, whatever figures come with it: outside authors
    label the opposite stance missing. Case-insensitive regular expressions, matched against
    each sentence as the judge reads it (other languages through the glossary).
    """

    says: tuple[re.Pattern[str], ...]
    unless: tuple[re.Pattern[str], ...] = ()

    def taken_in(self, sentences: Sequence[str]) -> bool:
        return any(p.search(s) for s in sentences for p in self.says) and not any(
            p.search(s) for s in sentences for p in self.unless
        )


@dataclass(frozen=True)
class Script:
    """One scenario's director data, validated."""

    avoid: tuple[str, ...]
    reveals: tuple[Reveal, ...]
    pushback: tuple[str, ...]
    buzzwords: tuple[str, ...]
    buzzword_pushback: tuple[str, ...]
    deflect: tuple[str, ...]
    turn_back: tuple[str, ...]
    closing: tuple[str, ...]
    points: Mapping[str, PointScript]
    # Confident but wrong specifics for this scenario (``wrong:`` in the card): a sentence that
    # states one earns partial credit at most, whatever else it carries
    wrong: tuple[re.Pattern[str], ...] = ()

    def point(self, point_id: str) -> PointScript:
        return self.points[point_id]

    def is_wrong(self, sentence: str) -> bool:
        return any(p.search(sentence) for p in self.wrong) or bool(self.wrong_about(sentence))

    def wrong_across(self, before: str, sentence: str) -> set[str] | None:
        """Whether a wrong specific begun in ``before`` (the learner's words earlier in the
        conversation) ends in ``sentence``: its subject named a sentence or a message earlier
        ("My pick is Llama-3.1-8B ... It's Apache 2.0"). None when none does; else the points
        whose own patterns it is (empty for a scenario-wide one)."""
        text = f"{before} {sentence}"
        start = len(before) + 1

        def spans(pattern: re.Pattern[str]) -> bool:
            return any(m.start() < start < m.end() for m in pattern.finditer(text))

        points = {pid for pid, point in self.points.items() if any(map(spans, point.wrong))}
        return points if points or any(map(spans, self.wrong)) else None

    def wrong_about(self, sentence: str) -> set[str]:
        """The points whose own ``wrong:`` patterns ``sentence`` matches."""
        return {
            point.id
            for point in self.points.values()
            if any(p.search(sentence) for p in point.wrong)
        }


def _patterns(raw: object, at: str) -> tuple[re.Pattern[str], ...]:
    """A list of case-insensitive regular expressions from the card, compiled."""
    if raw is None:
        return ()
    if not isinstance(raw, list) or not all(isinstance(p, str) for p in raw):
        raise DirectorError(f"{at}: must be a list of regular expressions")
    try:
        return tuple(re.compile(p, re.IGNORECASE) for p in raw)
    except re.error as exc:
        raise DirectorError(f"{at}: {exc}") from None


def _stance(raw: object, at: str) -> Stance | None:
    """A rubric point's ``against:`` block (see :class:`Stance`), validated."""
    if raw is None:
        return None
    if not isinstance(raw, Mapping) or not raw.get("says"):
        raise DirectorError(f"{at}: must be a mapping with says: [patterns] (and unless:)")
    return Stance(
        _patterns(raw["says"], f"{at}.says"), _patterns(raw.get("unless"), f"{at}.unless")
    )


def _lines(raw: Mapping, key: str, where: str, *, required: bool = True) -> tuple[str, ...]:
    value = raw.get(key)
    if value is None and not required:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise DirectorError(f"{where}{key}: must be a non-empty list of lines")
    return tuple(" ".join(v.split()) for v in value)


def _fact(scenario: Scenario, index: object, where: str) -> str:
    if (
        not isinstance(index, int)
        or isinstance(index, bool)
        or not 1 <= index <= len(scenario.facts)
    ):
        raise DirectorError(f"{where}fact: must be a number from 1 to {len(scenario.facts)}")
    return scenario.facts[index - 1]


def script_for(scenario: Scenario) -> Script:
    """The director's script of ``scenario``; raises :class:`DirectorError` when malformed.

    A card without a ``director:`` block (or without a point's fields) gets generic lines from
    ``data/prompts.yaml`` and its own facts, so a new scenario works before it is scripted.
    """
    # The card takes no part in a Scenario's equality, so it is part of the cache key here.
    return _script(scenario, id(scenario.card))


@lru_cache(maxsize=64)
def _script(scenario: Scenario, _card_id: int) -> Script:
    defaults = prompt_texts().director_defaults
    card = scenario.card or {}
    raw = card.get("director") or {}
    if not isinstance(raw, Mapping):
        raise DirectorError("scenario.director: must be a mapping")
    where = "scenario.director."
    voice = raw.get("voice") or {}
    if not isinstance(voice, Mapping):
        raise DirectorError(f"{where}voice: must be a mapping (avoid: [...])")
    avoid = tuple(str(w) for w in (voice.get("avoid") or []))
    reveals = []
    for i, item in enumerate(raw.get("reveals") or [], start=1):
        at = f"{where}reveals[{i}]."
        if not isinstance(item, Mapping):
            raise DirectorError(f"{at[:-1]}: must be a mapping with fact, ask and say")
        reveals.append(
            Reveal(
                _fact(scenario, item.get("fact"), at),
                _lines(item, "ask", at),
                _lines(item, "say", at)[0],
            )
        )
    if not reveals:  # every fact, given in its own words when asked about
        reveals = [
            Reveal(f, (f,), defaults["reveal_say"].format(fact=as_sentence(f)))
            for f in scenario.facts
        ]
    rubric_raw = {str(r.get("id")): r for r in card.get("rubric", []) if isinstance(r, Mapping)}
    mapped = fact_for_points(scenario)
    points = {}
    for point in scenario.rubric:
        at = f"scenario.rubric[{point.id}]."
        item = rubric_raw.get(point.id, {})
        topic = item.get("topic") or point.id.replace("-", " ")
        if not isinstance(topic, str):
            raise DirectorError(f"{at}topic: must be a short label")
        try:
            evidence = parse_checks(item.get("evidence"), at + "evidence")
        except EvidenceError as exc:
            raise DirectorError(str(exc)) from None
        touch_raw = item.get("touch") or []
        if not isinstance(touch_raw, list) or not all(isinstance(w, str) for w in touch_raw):
            raise DirectorError(f"{at}touch: must be a list of words or phrases")
        words = tuple(w for w in touch_raw if w.strip())
        touch = Terms(words, "the idea in words", words[0]) if words else None
        against = _stance(item.get("against"), at + "against")
        advice = item.get("advice")
        if advice is None:
            example = point.examples[0] if point.examples else point.point
            advice = f'Say it outright next time, for instance: "{example}"'
        if not isinstance(advice, str) or not advice.strip():
            raise DirectorError(f"{at}advice: must be one sentence")
        fact = _fact(scenario, item["fact"], at) if "fact" in item else mapped[point.id]
        press = _lines(item, "press", at, required=False) or (
            defaults["press"].format(topic=topic.strip()),
        )
        points[point.id] = PointScript(
            id=point.id,
            topic=topic.strip(),
            evidence=evidence,
            fact=fact,
            touch=touch,
            against=against,
            wrong=_patterns(item.get("wrong"), at + "wrong"),
            press=press,
            acknowledge=_lines(item, "acknowledge", at, required=False)
            or tuple(defaults["acknowledge"]),
            advice=" ".join(advice.split()),
        )
    pushback = _lines(raw, "pushback", where, required=False) or tuple(defaults["pushback"])
    return Script(
        avoid=avoid,
        reveals=tuple(reveals),
        pushback=pushback,
        buzzwords=tuple(str(w).lower() for w in (raw.get("buzzwords") or [])),
        buzzword_pushback=_lines(raw, "buzzword_pushback", where, required=False) or pushback,
        deflect=_lines(raw, "deflect", where, required=False) or tuple(defaults["deflect"]),
        turn_back=_lines(raw, "turn_back", where, required=False) or tuple(defaults["turn_back"]),
        closing=_lines(raw, "closing", where, required=False) or tuple(defaults["closing"]),
        points=points,
        wrong=_patterns(card.get("wrong"), "scenario.wrong"),
    )


# ----------------------------------------------------------------------------- moves


@dataclass(frozen=True)
class Move:
    """What the character does next, and the director's own line for it.

    ``lead`` reacts to the learner's message (may be empty); ``main`` carries the move (a fact,
    a pointed question). ``instruction`` tells a capable model what to say, without the rubric.
    """

    kind: str  # reveal | acknowledge | pushback | press | deflect | turn-back | close
    lead: str
    main: str
    instruction: str
    point_id: str = ""  # the rubric point pressed on (never shown to the model)
    fact: str = ""

    @property
    def line(self) -> str:
        return " ".join(part for part in (self.lead, self.main) if part)


def is_question(text: str) -> bool:
    stripped = text.strip()
    return (
        stripped.endswith(("?", "？"))
        or "¿" in stripped
        or bool(_QUESTION_START.match(stripped))
        or bool(_QUESTION_END.search(stripped.lower()))
        or bool(_ASKS_WITHIN.search(stripped))
    )


def _fresh(options: Sequence[str], said: Sequence[str]) -> str:
    """The first option not yet said in the conversation; when all were, the one said longest
    ago, so the character never says the same line twice running while it has another."""

    def last_said(option: str) -> int:
        start = option.split("{")[0].strip()
        return max((i for i, line in enumerate(said) if start in line), default=-1)

    return min(options, key=last_said)


def _fill(line: str, press: str, fact: str) -> str:
    return line.replace("{press}", press).replace("{fact}", fact).strip()


@dataclass(frozen=True)
class TurnFacts:
    """What the director knows about the newest learner message."""

    text: str
    escape: bool
    newly_covered: tuple[str, ...]  # point ids that became covered with this message
    improved: tuple[str, ...]  # point ids whose score rose (partly) with this message
    uncovered: tuple[str, ...]  # point ids still not covered, least covered first
    has_specifics: bool  # any evidence of any kind in the message


def choose_move(
    scenario: Scenario,
    turn: TurnFacts,
    said: Sequence[str],
    similarity: Similarity | None = None,
) -> Move:
    """The character's next move. ``said``: the character's earlier lines (to avoid repeats)."""
    script = script_for(scenario)
    name = scenario.character.name
    # Pressed in the card's order: the conversation then follows the argument the card lays out.
    order = [point.id for point in scenario.rubric if point.id in turn.uncovered]
    next_id = order[0] if order else ""
    press_point = script.point(next_id) if next_id else None
    press = _fresh(press_point.press, said) if press_point else ""

    if turn.escape:
        line = _fill(_fresh(script.deflect, said), press or _fresh(script.closing, said), "")
        return Move("deflect", "", line, "", next_id)

    if is_question(turn.text):
        reveals = _match_reveals(script, turn.text, said, similarity)
        if reveals:
            follow = press if press and not reveals[-1].say.rstrip().endswith("?") else ""
            facts = " ".join(r.fact for r in reveals)
            return Move(
                "reveal",
                " ".join(r.say for r in reveals),
                follow,
                (
                    f"Answer their question with this fact, in your own words: {facts}"
                    if len(reveals) == 1
                    else f"Answer both their questions with these facts, in your own words: {facts}"
                )
                + (f" Then ask: {follow}" if follow else ""),
                next_id,
                facts,
            )
        if not turn.newly_covered:
            line = _fill(_fresh(script.turn_back, said), press or "", "")
            return Move(
                "turn-back",
                "",
                line,
                f"Turn the question back to them: they are the one advising you. Then ask: {press}",
                next_id,
            )

    if not turn.uncovered:
        lead = ""
        if turn.newly_covered:
            lead = _fresh(script.point(turn.newly_covered[0]).acknowledge, said)
        closing = _fresh(script.closing, said)
        return Move(
            "close", lead, closing, f"Say you are convinced enough to decide, as {name} would.", ""
        )

    if turn.newly_covered:
        lead = _fresh(script.point(turn.newly_covered[0]).acknowledge, said)
        return Move(
            "acknowledge",
            lead,
            press,
            f"Grant the point they just made, briefly and without praise words, then ask: {press}",
            next_id,
            press_point.fact if press_point else "",
        )

    low = turn.text.lower()
    if any(word in low for word in script.buzzwords):
        line = _fill(_fresh(script.buzzword_pushback, said), press, "")
        return Move(
            "pushback",
            "",
            line,
            f"Push back: they used a buzzword without a reason. Ask: {press}",
            next_id,
        )
    if not turn.has_specifics:
        # A vague message about a point already touched: ask for specifics on that point.
        target = script.point(turn.improved[0]) if turn.improved else press_point
        lead = _fresh(script.pushback, said)
        main = _fresh(target.press, said) if target is not None else ""
        if main and main in lead:
            main = ""
        return Move(
            "pushback",
            lead,
            main,
            "Push back: what they said is vague, with no name or number. Demand specifics. "
            f"Ask: {main or press}",
            target.id if target else next_id,
            target.fact if target else "",
        )
    return Move(
        "press",
        "",
        press,
        f"Challenge them with this fact: {press_point.fact if press_point else ''} Then ask: "
        f"{press}",
        next_id,
        press_point.fact if press_point else "",
    )


MAX_REVEALS = 2  # facts given in one reply, when one message asks several things
# Where one message asks several things: after a question mark, or at ", and how ..." / "; what ..."
# (in another language, once read through the glossary: ", en hoeveel" -> ", en how many")
_QUESTION_PARTS = re.compile(
    r"[?？]\s*|[,;]\s*(?:\w+\s+)?(?=(?:how|what|which|who|when|where|why|"
    r"is|are|do|does|did|can|could|will|would)\b)",
    re.IGNORECASE,
)


def _match_reveals(
    script: Script, question: str, said: Sequence[str], similarity: Similarity | None
) -> list[Reveal]:
    """The facts a question asks for: the one the whole message asks about best, then, when it
    asks several things ("How long is a chapter, and how many a month?"), the fact each part
    asks for, up to :data:`MAX_REVEALS`, none already given."""
    best = _match_reveal(script, question, said, similarity)
    if best is None:
        return []
    english = gloss(question, not looks_english(question))
    parts = [p for p in _QUESTION_PARTS.split(english) if len(p.split()) >= 3]
    if len(parts) < 2:
        return [best]
    spoken = " ".join(said)
    found = [best]
    asked_at = {best: len(parts)}  # the part that asks for each fact: answered in that order
    for at, part in enumerate(parts):
        if len(found) == MAX_REVEALS and asked_at[best] < len(parts):
            break
        reveal = _match_reveal(script, part, [*said, *(r.say for r in found)], similarity)
        if reveal is None or reveal.say in spoken:
            continue
        if reveal in asked_at:
            asked_at[reveal] = min(asked_at[reveal], at)
        elif len(found) < MAX_REVEALS:
            found.append(reveal)
            asked_at[reveal] = at
    return sorted(found, key=asked_at.__getitem__)


def _match_reveal(
    script: Script, question: str, said: Sequence[str], similarity: Similarity | None
) -> Reveal | None:
    asks = [(reveal, ask) for reveal in script.reveals for ask in (*reveal.ask, reveal.fact)]
    # a question in another language is also read through the judge's glossary ("Hoeveel
    # voorbeelden heb je?" -> "Hoeveel examples heb je?"), since the ways of asking are English
    questions = list(dict.fromkeys([question, gloss(question, not looks_english(question))]))
    if similarity is not None:
        rows = similarity(questions, [ask for _, ask in asks])
        scores = {}
        for (reveal, _), *row in zip(asks, *rows, strict=True):
            scores[reveal] = max(scores.get(reveal, 0.0), *row)
    else:
        q = {word for text in questions for word in _content_words(text)}
        scores = {}
        for reveal, ask in asks:
            a = set(_content_words(ask))
            scores[reveal] = max(scores.get(reveal, 0.0), len(q & a) / (len(a) or 1))
    ranked = sorted(scores.items(), key=lambda item: -item[1])
    if not ranked or ranked[0][1] < REVEAL_AT:
        return None
    spoken = " ".join(said)
    best, best_score = ranked[0]
    # An already-given fact yields to an equally fitting one not yet given.
    for reveal, score in ranked[1:3]:
        if best.say in spoken and reveal.say not in spoken and score >= best_score - 0.03:
            return reveal
    return best


_STOP = set(
    "a an the and or of to in on for with is are be it that this as at by from your you their "
    "they we our not no but if so than then what which who how why when do does can could would "
    "should will me i my".split()
)


def _content_words(text: str) -> list[str]:
    return [w for w in re.findall(r"[a-z0-9$]+", text.lower()) if w not in _STOP]


# What counts as a specific anywhere in a message: a name, a number with a unit, an order.
SPECIFIC_KINDS = (
    "model-with-size",
    "model-name",
    "number-unit",
    "money",
    "time-estimate",
    "step-arithmetic",
    "ordered-plan",
    # a figure cut ("like 2 instead of 5", "256 tokens max"): judge round 46
    "cut-with-number",
)


def has_specifics(text: str, *, names: bool = True) -> bool:
    """Whether ``text`` carries a checkable specific: a model name, a number with a unit or a
    plan with an order (words such as "baseline" or "accuracy" alone are not specifics).
    ``names=False``: a figure or a plan only, not a model's name (a reason beside a topic waved
    away: "compute isn't an issue, it trains on my CPU in an hour")."""
    from demos.lab.evidence import evidence_kinds

    kinds = evidence_kinds()
    wanted = (k for k in SPECIFIC_KINDS if names or not k.startswith("model"))
    return evidence_found(tuple(kinds[k] for k in wanted), text) is not None

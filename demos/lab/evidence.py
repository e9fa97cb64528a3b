"""Checkable evidence in a learner's words: a named model with its size, numbers with units, a
plan with an order. The debrief gives credit for specifics, not for sounding like the rubric.

The kinds and their patterns are data (``data/evidence.yaml``); a scenario card says, per
rubric point, which kinds count (``evidence: [model-with-size]``, or ``{terms: [lora, qlora]}``).
Pure logic: no Gradio, no model.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

from demos import yaml_io
from demos.calculator.memory import FROZEN_WEIGHT_BYTES

DATA_DIR = Path(__file__).resolve().parent / "data"
# A learner sentence sharing this many words in a row with a rubric point restates it (six
# caught natural phrases such as "on a GPU rented by the hour").
RESTATE_RUN = 8
_WORD = re.compile(r"[a-z0-9$%€£']+")


class EvidenceError(ValueError):
    """A scenario card names an evidence kind that does not exist, or writes one badly."""


@dataclass(frozen=True)
class EvidenceKind:
    name: str
    says: str  # how the coach names it: "a named model with its size"
    example: str
    patterns: tuple[re.Pattern[str], ...] = ()
    topical: bool = False  # evidence that is about its point wherever it is said
    order_words: re.Pattern[str] | None = None
    numbered: re.Pattern[str] | None = None

    def found_in(self, text: str) -> bool:
        if self.order_words is not None:
            distinct = {m.group(0).lower() for m in self.order_words.finditer(text)}
            if len(distinct) >= 2:
                return True
            return bool(self.numbered and self.numbered.search(text))
        return any(p.search(text) for p in self.patterns)


@dataclass(frozen=True)
class Terms:
    """Evidence written in the card itself: any one of these words or phrases."""

    words: tuple[str, ...]
    says: str
    example: str
    topical: bool = False
    at_least: int = 1  # how many different ones (at different places) must be there

    def found_in(self, text: str) -> bool:
        low = text.lower()
        if self.at_least <= 1:
            return any(term_pattern(w).search(low) for w in self.words)
        # each term counts once, where it is first found; two terms found at the same place
        # ("checkpoint", "checkpointing") are one part named
        starts = {m.start() for w in self.words if (m := term_pattern(w).search(low))}
        return len(starts) >= self.at_least


@lru_cache(maxsize=4096)
def term_pattern(term: str) -> re.Pattern[str]:
    """A card's word or phrase as a pattern: whole words, except that a last word of five
    letters or more may carry an ending ("overfit" finds "overfits", "resume" "resuming")."""
    escaped = re.escape(term.lower())
    last = re.findall(r"[a-z]+$", term.lower())
    tail = ""
    if last and len(last[0]) >= 5:
        tail = r"[a-z]*"
        if last[0].endswith("e"):  # "resume" finds "resuming", not "trace" "track"
            escaped, tail = escaped[:-1], r"(?:e[a-z]*|ing|ion|ions|ed)"
    return re.compile(rf"(?<![\w-]){escaped}{tail}(?![\w])")


@dataclass(frozen=True)
class AllOf:
    """Evidence that needs several things in the same words: a named model *and* a baseline
    measured, a failure *and* its fix. Each part is a kind or the card's terms."""

    parts: tuple[EvidenceKind | Terms, ...]
    says: str
    example: str
    topical: bool = False

    def found_in(self, text: str) -> bool:
        return all(part.found_in(text) for part in self.parts)

    def found_in_own(self, unit: str, own: str) -> bool:
        """Card terms anywhere in ``unit``; kinds (numbers, names) only in ``own``, the
        learner's own words (see ``coverage._evidence_in``)."""
        return all(part.found_in(unit if isinstance(part, Terms) else own) for part in self.parts)


Check = EvidenceKind | Terms | AllOf


@lru_cache(maxsize=1)
def evidence_kinds() -> dict[str, EvidenceKind]:
    """Every kind of ``data/evidence.yaml``, compiled once."""
    raw = yaml_io.safe_load((DATA_DIR / "evidence.yaml").read_text(encoding="utf-8"))
    families = " ".join(raw["model_families"].split()).replace(" ", "")
    flags = re.IGNORECASE | re.MULTILINE

    def compile_all(patterns: Iterable[str]) -> tuple[re.Pattern[str], ...]:
        return tuple(re.compile(p.replace("{families}", families), flags) for p in patterns)

    kinds = {}
    for name, spec in raw["kinds"].items():
        kinds[name] = EvidenceKind(
            name=name,
            says=spec["says"],
            example=spec["example"],
            patterns=compile_all(spec.get("any", ())),
            topical=bool(spec.get("topical", False)),
            order_words=re.compile(spec["order_words"], flags) if "order_words" in spec else None,
            numbered=re.compile(spec["numbered"], flags) if "numbered" in spec else None,
        )
    return kinds


def parse_checks(raw: object, where: str) -> tuple[Check, ...]:
    """A rubric point's ``evidence:`` list as checks; raises :class:`EvidenceError` naming ``where``."""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise EvidenceError(f"{where}: evidence must be a list")
    kinds = evidence_kinds()
    checks: list[Check] = []
    for item in raw:
        if isinstance(item, str):
            if item not in kinds:
                known = ", ".join(sorted(kinds))
                raise EvidenceError(f"{where}: unknown evidence kind '{item}' (known: {known})")
            checks.append(kinds[item])
        elif isinstance(item, Mapping) and isinstance(item.get("kind"), str):
            # {kind: ordered-plan, topical: true}: for this point, the kind is about the point
            # wherever it is said (a plan with an order is the point "ends with a plan")
            if item["kind"] not in kinds:
                known = ", ".join(sorted(kinds))
                raise EvidenceError(
                    f"{where}: unknown evidence kind '{item['kind']}' (known: {known})"
                )
            checks.append(replace(kinds[item["kind"]], topical=bool(item.get("topical", False))))
        elif isinstance(item, Mapping) and isinstance(item.get("terms"), list):
            checks.append(_terms(item, where))
        elif isinstance(item, Mapping) and isinstance(item.get("all"), list):
            # {all: [model-name, {terms: [baseline, zero-shot]}], topical: true, says, example}:
            # every part in the same words
            parts = parse_checks(item["all"], f"{where} all")
            if len(parts) < 2 or any(isinstance(part, AllOf) for part in parts):
                raise EvidenceError(f"{where}: all must list two or more kinds or terms")
            checks.append(
                AllOf(
                    parts,  # type: ignore[arg-type]
                    str(item.get("says") or parts[0].says),
                    str(item.get("example") or parts[0].example),
                    topical=bool(item.get("topical", False)),
                )
            )
        else:
            raise EvidenceError(
                f"{where}: each evidence item is a kind name, {{kind: ..., topical: true}}, "
                "{terms: [...]} or {all: [...]}"
            )
    return tuple(checks)


def _terms(item: Mapping, where: str) -> Terms:
    words = tuple(str(w) for w in item["terms"] if str(w).strip())
    if not words:
        raise EvidenceError(f"{where}: terms must list at least one word")
    return Terms(
        words,
        str(item.get("says") or f"mention of {words[0]}"),
        str(item.get("example") or words[0]),
        topical=bool(item.get("topical", False)),
        at_least=int(item.get("at_least", 1)),
    )


def evidence_found(checks: Sequence[Check], text: str) -> Check | None:
    """The first check that ``text`` satisfies (None if none does, or if there are no checks)."""
    return next((check for check in checks if check.found_in(text)), None)


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def restates(sentence: str, rubric_texts: Sequence[str], run: int = RESTATE_RUN) -> bool:
    """True when ``sentence`` copies ``run`` or more words in a row from one of ``rubric_texts``
    (the rubric points themselves, which the learner may have seen in the lesson)."""
    said = words(sentence)
    if len(said) < run:
        return False
    windows = {tuple(said[i : i + run]) for i in range(len(said) - run + 1)}
    for text in rubric_texts:
        target = words(text)
        if any(tuple(target[i : i + run]) in windows for i in range(len(target) - run + 1)):
            return True
    return False


@dataclass(frozen=True)
class EmptyWords:
    """What earns nothing whatever its topic: claims and bare lists (``data/evidence.yaml``)."""

    claims: tuple[re.Pattern[str], ...]
    buzzwords: tuple[str, ...]
    buzzword_hits: int
    min_items: int
    short_words: int
    short_share: float
    clause_words: int
    hedges: re.Pattern[str] | None = None
    approximations: re.Pattern[str] | None = None
    # a labelled list ("D tier: NaN loss, warm-up bugs"): see ``lists.labelled`` in the data
    labelled_items: int = 2
    labelled_item_words: int = 3
    label_words: int = 3
    sequence_label: re.Pattern[str] | None = None
    dismissals: re.Pattern[str] | None = None


@lru_cache(maxsize=1)
def empty_words() -> EmptyWords:
    raw = yaml_io.safe_load((DATA_DIR / "evidence.yaml").read_text(encoding="utf-8"))
    lists = raw.get("lists") or {}
    labelled = lists.get("labelled") or {}
    return EmptyWords(
        claims=tuple(re.compile(p, re.IGNORECASE) for p in raw.get("claims") or ()),
        buzzwords=tuple(str(w).lower() for w in raw.get("buzzwords") or ()),
        buzzword_hits=int(raw.get("buzzword_hits", 2)),
        min_items=int(lists.get("min_items", 5)),
        short_words=int(lists.get("short_words", 2)),
        short_share=float(lists.get("short_share", 0.8)),
        clause_words=int(lists.get("clause_words", 99)),
        hedges=_alternatives(raw.get("hedges")),
        approximations=_alternatives(raw.get("approximations")),
        dismissals=_alternatives(raw.get("dismissals")),
        labelled_items=int(labelled.get("min_items", 2)),
        labelled_item_words=int(labelled.get("item_words", 3)),
        label_words=int(labelled.get("label_words", 3)),
        sequence_label=re.compile(labelled["sequence"], re.IGNORECASE)
        if labelled.get("sequence")
        else None,
    )


def _alternatives(patterns: Sequence[str] | None) -> re.Pattern[str] | None:
    """One case-insensitive pattern matching any of ``patterns`` (whole words)."""
    if not patterns:
        return None
    return re.compile(r"\b(?:" + "|".join(f"(?:{p})" for p in patterns) + r")\b", re.IGNORECASE)


def is_hedged(sentence: str) -> bool:
    """True when ``sentence`` leaves its choice open ("Kaggle might be better", "deploy it
    somewhere"); a hedge on a number ("maybe 1 in 10", "around 3 hours") is an estimate, not
    indecision, and does not count (``data/evidence.yaml``: ``hedges``, ``approximations``)."""
    spec = empty_words()
    if spec.hedges is None:
        return False
    if spec.approximations is not None:
        sentence = spec.approximations.sub(" ", sentence)
    return bool(spec.hedges.search(sentence))


_ITEM_SPLIT = re.compile(r"[,;:](?=\s|$)|\s(?:and|or|&)\s|\s[-–—]\s", re.IGNORECASE)


def is_claim(sentence: str) -> bool:
    """True when ``sentence`` claims a topic is dealt with ("I've covered the costs") instead
    of dealing with it. The caller decides whether a specific beside it rescues it."""
    return any(p.search(sentence) for p in empty_words().claims)


def is_list(sentence: str) -> bool:
    """True when ``sentence`` is a bare list of short items (names, topics or numbers)."""
    spec = empty_words()
    items = [part.split() for part in _ITEM_SPLIT.split(sentence) if words(part)]
    if len(items) < spec.min_items:
        return False
    if max(len(item) for item in items) >= spec.clause_words:
        return False  # a clause that says what the items are: an enumeration, not a bare list
    short = sum(len(item) <= spec.short_words for item in items)
    return short / len(items) >= spec.short_share


_LABELLED = re.compile(r"^\s*(?:[-*•>]\s*)?([^:\n]+?)\s*:\s*(\S.*?)\s*$")
_LABELLED_ITEM_SPLIT = re.compile(r"[,;]\s*|\s+/\s+")


def dismisses(sentence: str) -> bool:
    """True when ``sentence`` waves a topic away ("Compute shouldn't be an issue", "no need for
    a baseline"): ``dismissals`` in ``data/evidence.yaml``."""
    spec = empty_words()
    return spec.dismissals is not None and spec.dismissals.search(sentence) is not None


def is_labelled_list(sentence: str) -> bool:
    """True when ``sentence`` is a short label and a bare list of short items after it ("D tier:
    NaN loss, warm-up bugs", "Allergens: LoRA, Kaggle"): a form's line, which names topics
    without saying anything of them. A step of a plan ("Week 1: baseline, error analysis") is
    not one (``lists.labelled.sequence`` in the data)."""
    spec = empty_words()
    match = _LABELLED.match(sentence)
    if match is None:
        return False
    label, rest = match.groups()
    if len(label.split()) > spec.label_words:
        return False
    if spec.sequence_label is not None and spec.sequence_label.search(label):
        return False
    items = [item for item in _LABELLED_ITEM_SPLIT.split(rest.rstrip(".!")) if words(item)]
    return len(items) >= spec.labelled_items and all(
        len(item.split()) <= spec.labelled_item_words for item in items
    )


def is_hype(sentence: str, extra: Sequence[str] = ()) -> bool:
    """True when ``sentence`` holds at least ``buzzword_hits`` different buzzwords (the shared
    list and ``extra``, a scenario's own)."""
    spec = empty_words()
    low = sentence.lower()
    hits = {
        w
        for w in (*spec.buzzwords, *(x.lower() for x in extra))
        if re.search(rf"(?<![\w-]){re.escape(w)}(?![\w-])", low)
    }
    return len(hits) >= spec.buzzword_hits


def card_words_removed(sentence: str, card_texts: Sequence[str], run: int = 5) -> str:
    """``sentence`` without the stretches it copies from the scenario's own text (``run`` or
    more words in a row of the brief, the facts, the character's lines; a shorter sentence
    counts as copied when all of it is found there): what is left is what the learner added.
    The card's words are never scored as the learner's."""
    tokens = sentence.split()
    flat = [(_PERSON.get(word, word), i) for i, tok in enumerate(tokens) for word in words(tok)]
    size = min(run, len(flat))
    if size < 2:
        return sentence
    windows = _card_windows(tuple(card_texts), size)
    keep = [True] * len(tokens)
    for start in range(len(flat) - size + 1):
        if tuple(w for w, _ in flat[start : start + size]) in windows:
            for _, token_index in flat[start : start + size]:
                keep[token_index] = False
    if all(keep):
        return sentence
    return " ".join(tok for tok, kept in zip(tokens, keep, strict=True) if kept)


@lru_cache(maxsize=64)
def _card_windows(card_texts: tuple[str, ...], size: int) -> frozenset[tuple[str, ...]]:
    windows: set[tuple[str, ...]] = set()
    for text in card_texts:
        said = [_PERSON.get(word, word) for word in words(text)]
        windows |= {tuple(said[i : i + size]) for i in range(len(said) - size + 1)}
    return frozenset(windows)


# A figure: a number and the word after it ("15 GB", "50,000 examples", "$200 a month").
_CARD_FIGURE = re.compile(r"(\d[\d,.]*)\s*([a-z]+)", re.IGNORECASE)


@lru_cache(maxsize=64)
def _card_figures(card_texts: tuple[str, ...]) -> frozenset[tuple[str, str]]:
    return frozenset(
        (m.group(1).rstrip(".,").replace(",", ""), m.group(2).lower())
        for text in card_texts
        for m in _CARD_FIGURE.finditer(text)
    )


def card_figures_removed(sentence: str, card_texts: Sequence[str]) -> str:
    """``sentence`` without the card's own figures ("size 15 GB", "3 billion parameters" when
    the card says "15 GB" and "3 billion"): a unit word such as "GB" is the learner's
    specific only beside a figure of the learner's own ("about 48 GB with Adam"), not beside
    the scenario's fact read back (judge rounds 41 and 44: a knitting pattern's "needles
    size 15 GB", a departures board's "mind the gap between 3 billion parameters and 15 GB")."""
    figures = _card_figures(tuple(card_texts))

    def blank(match: re.Match[str]) -> str:
        number = match.group(1).rstrip(".,").replace(",", "")
        return " " if (number, match.group(2).lower()) in figures else match.group(0)

    return _CARD_FIGURE.sub(blank, sentence)


# Echoes swap the persons ("What are you building" -> "What am I building"): compared alike.
_PERSON = {
    **dict.fromkeys(("i", "you", "we", "me", "us"), "_person"),
    **dict.fromkeys(("my", "your", "our", "mine", "yours", "ours"), "_own"),
    **dict.fromkeys(("am", "are", "is", "i'm", "you're", "we're"), "_be"),
    **dict.fromkeys(("i've", "you've", "we've"), "_have"),
}


# ----------------------------------------------------------------------------- other languages


@dataclass(frozen=True)
class Glossary:
    english: frozenset[str]
    foreign: frozenset[str]
    min_foreign: int
    pattern: re.Pattern[str] | None
    english_for: dict[str, str]


@lru_cache(maxsize=1)
def glossary() -> Glossary:
    """``data/glossary.yaml``, compiled once."""
    raw = yaml_io.safe_load((DATA_DIR / "glossary.yaml").read_text(encoding="utf-8"))
    function = raw.get("function_words") or {}
    english_for: dict[str, str] = {}
    for english, forms in (raw.get("words") or {}).items():
        for form in forms or ():
            english_for.setdefault(str(form).lower(), str(english))
    phrases = sorted(english_for, key=len, reverse=True)
    # Chinese, Japanese, Korean and Thai write words without spaces between them (or attach
    # particles to them): their forms are found anywhere (a Thai form at a syllable's edge, see
    # `_form_pattern`); every other form only as a whole word.
    pattern = re.compile("|".join(map(_form_pattern, phrases)), re.I) if phrases else None
    return Glossary(
        english=frozenset(str(w).lower() for w in function.get("english") or ()),
        foreign=frozenset(str(w).lower() for w in function.get("foreign") or ()),
        min_foreign=int(function.get("min_foreign", 2)),
        pattern=pattern,
        english_for=english_for,
    )


# (Thai vowel and tone marks are not word characters to `re`: a Thai word keeps them)
_THAI_MARKS = "\u0e31\u0e34-\u0e3a\u0e47-\u0e4e"
_ANY_WORD = re.compile(rf"(?:[^\W\d_]|[{_THAI_MARKS}])+(?:['’][^\W\d_]+)?")
# Scripts written without spaces between words (Han, Hiragana, Katakana, Thai) or with particles
# attached (Hangul)
THAI_LETTERS = "\u0e00-\u0e7f"  # the Thai block, for character classes
UNSPACED = re.compile(
    rf"[{THAI_LETTERS}\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af]"
)
_THAI = re.compile(rf"[{THAI_LETTERS}]")
# A Thai form is found inside a run of Thai, but not starting just after a leading vowel (เ แ โ
# ใ ไ, written before the consonant they are said after) nor ending before a vowel or tone mark
# of its last syllable: "กี่" (how many) is not read in "เกี่ยว", nor "สาม" (three) in "สามารถ".
_THAI_START = r"(?<![\u0e40-\u0e44])"
_THAI_END = rf"(?![\u0e30\u0e32\u0e33\u0e45{_THAI_MARKS}])"
_WORD_START = r"(?<![\w'’])"
_WORD_END = r"(?![\w'’])"


def _form_pattern(form: str) -> str:
    """A glossary form as a pattern: a whole word, or anywhere in a script without spaces."""
    escaped = re.escape(form)
    if not _THAI.search(form):
        return escaped if UNSPACED.search(form) else f"{_WORD_START}{escaped}{_WORD_END}"
    # Thai, perhaps beside a Latin term ("ไม่ต้อง fine-tune"): each end as its script wants
    start = _THAI_START if _THAI.match(form[0]) else _WORD_START
    end = _THAI_END if _THAI.match(form[-1]) else _WORD_END
    return f"{start}{escaped}{end}"


# Letters of the Latin script (with its accented and Vietnamese forms)
_LATIN = re.compile(r"[A-Za-z\u00c0-\u024f\u1e00-\u1eff]")
_LETTER = re.compile(r"[^\W\d_]")
# A text whose letters are mostly of another script (Cyrillic, Arabic, Devanagari, Han, Hangul,
# Thai, ...) reads as another language whatever its function words
OTHER_SCRIPT_SHARE = 0.3


def _function_words(text: str) -> tuple[int, int]:
    """How many of ``text``'s words are the glossary's foreign and English function words."""
    spec = glossary()
    tokens = [t.lower().replace("’", "'") for t in _ANY_WORD.findall(text)]
    return sum(t in spec.foreign for t in tokens), sum(t in spec.english for t in tokens)


def looks_foreign(text: str) -> bool:
    """True when ``text`` reads as another language than English: at least ``min_foreign`` of
    the glossary's foreign function words ("el", "und", "avec"), and more of them than of the
    English ones. A sentence of technical terms alone ("Kaggle, 30 GPU-hours") is not."""
    letters = _LETTER.findall(text)
    if letters and 1 - len(_LATIN.findall(text)) / len(letters) >= OTHER_SCRIPT_SHARE:
        return True
    foreign, english = _function_words(text)
    return foreign >= glossary().min_foreign and foreign > english


def looks_english(text: str) -> bool:
    """True when ``text`` plainly reads as English (two English function words or more, and
    more of them than foreign ones): such a sentence is never glossed, whatever its message."""
    foreign, english = _function_words(text)
    return english >= 2 and english > foreign


def gloss(text: str, foreign: bool | None = None) -> str:
    """``text`` with the glossary's words put into English ("30 horas" -> "30 hours"), when it
    reads as another language (``foreign``: when the caller already knows, e.g. from the whole
    message); English text comes back unchanged."""
    spec = glossary()
    if foreign is None:
        foreign = looks_foreign(text)
    if spec.pattern is None or not foreign:
        return text

    def english(match: re.Match[str]) -> str:
        said = spec.english_for.get(match.group(0).lower(), match.group(0))
        # between unspaced characters the English word needs spaces of its own
        return f" {said} " if UNSPACED.search(match.group(0)) else said

    read = spec.pattern.sub(english, text)
    return re.sub(r"  +", " ", read).strip() if UNSPACED.search(text) else read


# ----------------------------------------------------------------------------- echoed forms


@dataclass(frozen=True)
class EchoForms:
    """Forms that earn nothing whatever their words (``data/evidence.yaml``: ``echo_forms``)."""

    keyword_min_words: int
    keyword_max_function: int
    function_words: frozenset[str]
    facts_min_words: int
    facts_share: float
    facts_union_words: int
    facts_union_share: float
    own_claim: re.Pattern[str] | None
    headlines: tuple[re.Pattern[str], ...]
    numbers_min: int
    numbers_max_words: int
    hard_claims: tuple[re.Pattern[str], ...]


@lru_cache(maxsize=1)
def echo_forms() -> EchoForms:
    raw = yaml_io.safe_load((DATA_DIR / "evidence.yaml").read_text(encoding="utf-8"))
    spec = raw.get("echo_forms") or {}
    keywords = spec.get("keywords") or {}
    facts = spec.get("facts") or {}
    numbers = spec.get("numbers") or {}
    words_of = glossary()
    return EchoForms(
        keyword_min_words=int(keywords.get("min_words", 6)),
        keyword_max_function=int(keywords.get("max_function_words", 1)),
        function_words=frozenset(
            {str(w).lower() for w in keywords.get("function_words") or ()}
            | words_of.english
            | words_of.foreign
        ),
        facts_min_words=int(facts.get("min_words", 3)),
        facts_share=float(facts.get("share", 0.75)),
        facts_union_words=int(facts.get("union_min_words", 6)),
        facts_union_share=float(facts.get("union_share", 0.9)),
        own_claim=_alternatives(spec.get("own_claim")),
        headlines=tuple(re.compile(p, re.IGNORECASE) for p in spec.get("headlines") or ()),
        numbers_min=int(numbers.get("min_numbers", 3)),
        numbers_max_words=int(numbers.get("max_words", 2)),
        hard_claims=tuple(re.compile(p, re.IGNORECASE) for p in spec.get("hard_claims") or ()),
    )


# figures worked out ("50,000 / 16 = 3,125 steps") are arithmetic, not a string of terms
_ARITHMETIC = re.compile(r"\d\s*[=/×*+x]\s*\d|[=×]")


_NUMBER = re.compile(r"^[$€£]?\d[\d.,]*[a-z%]{0,3}$", re.IGNORECASE)
_DIGITS = {
    "one": "1",
    "two": "2",
    "three": "3",
    "four": "4",
    "five": "5",
    "six": "6",
    "seven": "7",
    "eight": "8",
    "nine": "9",
    "ten": "10",
    "twelve": "12",
    "twenty": "20",
    "thirty": "30",
    "forty": "40",
    "fifty": "50",
    "hundred": "100",
}


def is_keyword_string(sentence: str) -> bool:
    """True when ``sentence`` is a string of terms: many words, (almost) no function words and
    no arithmetic ("LoRA QLoRA fp16 Kaggle Colab checkpoints Drive epochs rent")."""
    spec = echo_forms()
    if _ARITHMETIC.search(sentence):
        return False
    # whitespace-separated: "bart-large-mnli" is one term
    tokens = [t.strip(".,;:!?()\"'“”").lower().replace("’", "'") for t in sentence.split()]
    tokens = [t for t in tokens if t]
    if len(tokens) < spec.keyword_min_words:
        return False
    return sum(t in spec.function_words for t in tokens) <= spec.keyword_max_function


def is_number_string(sentence: str) -> bool:
    """True when ``sentence`` is figures tied to nothing: several numbers and hardly any other
    content word ("Key figures: 1.7B, 32k, $0.80, 40, 80")."""
    spec = echo_forms()
    if _ARITHMETIC.search(sentence):
        return False
    tokens = [t.lower() for t in re.findall(r"[$€£]?[^\W_]+(?:[.,/][^\W_]+)*%?", sentence)]
    numbers = sum(bool(_NUMBER.match(t)) for t in tokens)
    others = [t for t in tokens if not _NUMBER.match(t) and t not in spec.function_words]
    # "key figures", "numbers": the words that only announce the figures do not tie them
    return numbers >= spec.numbers_min and len(others) <= spec.numbers_max_words + 2 * (
        ":" in sentence
    )


def is_hard_claim(sentence: str) -> bool:
    """True when ``sentence`` asserts the answer instead of giving it, even beside a figure
    ("as discussed", "the numbers speak for themselves")."""
    return any(p.search(sentence) for p in echo_forms().hard_claims)


def is_headline(sentence: str) -> bool:
    """True when ``sentence`` is "Topic: status" ("Cost: comfortably inside the budget.",
    "Model: chosen carefully."); the caller checks that no specific of the learner's own is
    there."""
    return any(p.search(sentence.strip()) for p in echo_forms().headlines)


def _content(text: str) -> list[str]:
    spec = echo_forms()
    out = []
    for word in words(text):
        word = _DIGITS.get(word, word)
        if word in spec.function_words or word in _PERSON:
            continue
        if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
            word = word[:-1]
        elif len(word) > 5 and word.endswith("ly"):  # "monthly" reads as the card's "month"
            word = word[:-2]
        out.append(word)
    return out


@lru_cache(maxsize=64)
def _fact_vocabulary(card_texts: tuple[str, ...]) -> frozenset[str]:
    return frozenset(w for text in card_texts for w in _content(text))


def reads_back_facts(sentence: str, facts: Sequence[str], card_texts: Sequence[str] = ()) -> bool:
    """True when ``sentence`` is the card's facts restated: most of its content words are one
    fact's (``facts``), or nearly all of them the card's (``card_texts``: brief, opening,
    facts), and no word makes it a claim of the learner's own ("should", "so", "instead"...)."""
    spec = echo_forms()
    content = _content(sentence)
    if len(content) < spec.facts_min_words:
        return False
    if spec.own_claim is not None and spec.own_claim.search(sentence):
        return False
    for fact in facts:
        vocabulary = _fact_vocabulary((fact,))
        if sum(w in vocabulary for w in content) >= spec.facts_share * len(content):
            return True
    if len(content) < spec.facts_union_words:
        return False
    vocabulary = _fact_vocabulary(tuple(card_texts))
    return sum(w in vocabulary for w in content) >= spec.facts_union_share * len(content)


def without_card_numbers(sentence: str, card_texts: Sequence[str]) -> str:
    """``sentence`` without the numbers that the card itself gives ("inside the $200" when the
    budget is $200 a month): what is left is the learner's own figures."""
    card_numbers = {n for text in card_texts for n in re.findall(r"\d[\d,.]*\d|\d", text)}
    return re.sub(
        r"[$€£]?(\d[\d,.]*\d|\d)",
        lambda m: "" if m.group(1) in card_numbers else m.group(0),
        sentence,
    )


# ----------------------------------------------------------------------------- wrong arithmetic
# A figure worked out wrong is a confident but wrong specific, in every scenario: "31,250 x 1.5 =
# 4,687 s", or a model's weights put at the wrong size ("a 3B model in fp16 is about 24 GB": 3
# billion parameters at 2 bytes each are 6 GB). Only what can be checked from the sentence alone
# is checked: one operation with its result (or a chain of them, worked out left to right), or a
# parameter count, a precision and a size in one clause. Training memory (optimizer state,
# gradients, activations) is not weights alone.
_FIGURE = r"[$€£]?(\d[\d,.]*\d|\d)\s?(?:(k|m)\b)?(?![\d.,]*\d)"
_UNIT = r"(?:\s?(?:h|hrs?|hours?|s|secs?|seconds?|mins?|minutes?|steps?|gb|examples?|epochs?|gpus?|tokens?|/h|/hr|an hour|per hour|a month|/month|a week|/week|usd|dollars?)\b)?"
_OPERATION = re.compile(
    rf"(?<![\w.,]){_FIGURE}{_UNIT}\s*(x|×|\*|/)\s*{_FIGURE}{_UNIT}\s*(?:=|≈|~=|is)\s*(?:about|roughly|around|approximately|approx\.?|~)?\s*~?\s*{_FIGURE}"
    r"(\s?(?:h|hrs?|hours?|mins?|minutes?)\b)?",
    re.IGNORECASE,
)
# figures joined by operations right before a match's first figure: the match is the tail of a
# longer chain ("30,000 / 8 x 2 = 7,500")
_CHAIN_LINK = re.compile(rf"{_FIGURE}{_UNIT}\s*(x|×|\*|/)\s*$", re.IGNORECASE)


def _operate(a: float, op: str, b: float) -> float:
    """``a`` divided by or multiplied by ``b`` (a division by zero leaves ``a``)."""
    if op == "/":
        return a / b if b else a
    return a * b


def _chain_before(sentence: str, end: int) -> tuple[float, str] | None:
    """The operations that lead up to ``end`` ("30,000 / 8 x " before "2 = ..."), worked out left
    to right: their value and the operation that takes the figure at ``end``; None when none."""
    links = []
    while (link := _CHAIN_LINK.search(sentence, 0, end)) is not None:
        links.append((_figure(link.group(1), link.group(2)), link.group(3)))
        end = link.start()
    if not links:
        return None
    value, op = links[-1]
    for figure, next_op in reversed(links[:-1]):
        value, op = _operate(value, op, figure), next_op
    return value, op


# the words for each precision of the GPU-hour calculator, whose bytes per weight are used
_PRECISION_WORDS = (
    (re.compile(r"\b(fp32|float32|full precision|32-?bit)\b", re.IGNORECASE), "fp32"),
    (
        re.compile(r"\b(fp16|float16|bf16|bfloat16|half precision|16-?bit)\b", re.IGNORECASE),
        "mixed",
    ),
    (re.compile(r"\b(int8|8-?bit)\b", re.IGNORECASE), "int8"),
    (re.compile(r"\b(int4|nf4|4-?bit)\b", re.IGNORECASE), "4bit"),
)
_WEIGHTS = re.compile(
    r"(?<![\w.])(\d+(?:\.\d+)?)\s?(b|bn|billion)\b([^,;:()]{0,60}?)\b(\d+(?:\.\d+)?)\s?gb\b",
    re.IGNORECASE,
)
_TRAINING_STATE = re.compile(
    r"\b(optimi[sz]er|adam\w*|gradients?|activations?|full fine-?tun\w*|training|train|kv[- ]?cache|context|overhead|plus|with|total)\b",
    re.IGNORECASE,
)


def _figure(digits: str, scale: str | None) -> float:
    """A written figure's value, with either convention for thousands and decimals: "31,250"
    and "31.250" are 31250, "2.5" and "2,5" are 2.5 (a separator before exactly three digits
    groups thousands, before one or two it is the decimal point)."""
    groups = re.split(r"[.,]", digits)
    if len(groups) > 1 and len(groups[-1]) != 3:
        value = float("".join(groups[:-1]) + "." + groups[-1])
    else:
        value = float("".join(groups))
    return value * {"k": 1e3, "m": 1e6}.get((scale or "").lower(), 1.0)


def wrong_arithmetic(sentence: str) -> bool:
    """True when ``sentence`` works a figure out wrong (see the comment above)."""
    for match in _OPERATION.finditer(sentence):
        a = _figure(match.group(1), match.group(2))
        # the end of a chain ("30,000 / 8 x 2 = 7,500"): worked out from its first figure,
        # left to right
        chain = _chain_before(sentence, match.start())
        if chain is not None:
            a = _operate(chain[0], chain[1], a)
        b = _figure(match.group(4), match.group(5))
        said = _figure(match.group(6), match.group(7))
        op = match.group(3)
        if op == "/" and b == 0:
            continue
        right = _operate(a, op, b)
        # seconds said in hours or minutes ("31,250 x 2 = 17 hours"): converted, not wrong
        scales = (1.0, 1 / 60, 1 / 3600) if match.group(8) else (1.0,)
        if said > 0 and all(
            abs(right * scale - said) > 0.1 * max(right * scale, said) for scale in scales
        ):
            return True
    for match in _WEIGHTS.finditer(sentence):
        between = match.group(3)
        precisions = [key for pattern, key in _PRECISION_WORDS if pattern.search(between)]
        if len(precisions) != 1 or _TRAINING_STATE.search(between):
            continue
        weights = float(match.group(1)) * FROZEN_WEIGHT_BYTES[precisions[0]]
        said = float(match.group(4))
        if said < 0.6 * weights or said > 1.7 * weights:
            return True
    return False

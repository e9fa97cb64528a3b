"""One honest word per post: advice, venting, neither, not sure, or too few known words."""

from __future__ import annotations

import pytest

from demos.advice import verdict

VOCABULARY = frozenset(
    "i my me you the a to and is it of what should do how landlord deposit back get kept "
    "so tired this just passed driving test need help con mi il non che".split()
)


def check(text: str) -> verdict.WordCheck:
    return verdict.check_words(text, VOCABULARY)


def test_confident_labels_and_neither():
    english = check("My landlord kept my deposit. How do I get it back?")
    assert english.readable
    advice = verdict.decide({"advice": 0.9, "venting": 0.05, "neither": 0.05}, english)
    assert advice.word == "advice" and advice.headline == "Asking for advice"
    neither = verdict.decide({"advice": 0.1, "venting": 0.1, "neither": 0.8}, english)
    assert neither.word == "neither" and "news" in neither.explanation


def test_below_the_threshold_it_says_not_sure():
    words = check("so tired of this")
    result = verdict.decide({"advice": 0.52, "venting": 0.48}, words, threshold=0.65)
    assert result.word == "not sure" and "advice" in result.explanation
    assert verdict.decide({"advice": 0.7, "venting": 0.3}, words, threshold=0.65).word == "advice"


@pytest.mark.parametrize(
    "text",
    [
        "😩" * 5000,
        "🙃🙃 !!! ??? 123 456",
        "asdkjh qwpoeiru zxmcnv lkjasd",
        "Non so cosa fare con il mio capo, mi tratta male ogni giorno e non dormo",
    ],
)
def test_emoji_noise_and_other_languages_are_unreadable(text):
    result = verdict.decide({"advice": 0.1, "venting": 0.9}, check(text))
    assert result.word == "unreadable" and result.confidence is None
    assert "English" in result.explanation


@pytest.mark.parametrize(
    "text",
    [
        "i need help",
        "i dont no wat to do abt my landlord tbh",  # typos and shorthand stay English
        "just passed my driving test!!! 🎉🎉🎉",
    ],
)
def test_short_slangy_english_is_still_read(text):
    assert check(text).readable

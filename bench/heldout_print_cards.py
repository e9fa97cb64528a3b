"""What a held-out round's author may see of each lab scenario (bench/heldout_authoring.md).

Prints each lesson card's character, brief, opening and facts, and each rubric point's id and
point sentence; nothing of the judge's data (examples, touch, evidence, against, wrong, the
director's lines). Usage: ``python3 bench/heldout_print_cards.py [repository root]``.
"""

import pathlib
import sys

import yaml

root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else ".")
for path in sorted((root / "lessons").glob("0[1-4]-*.md")):
    front = yaml.safe_load(path.read_text(encoding="utf-8").split("---", 2)[1])
    card = front["scenario"]
    print("=" * 70)
    print(path.stem, "->", card["title"])
    print("character:", card["character"])
    print("brief:", card["brief"])
    print("opening:", card["opening"])
    for fact in card.get("facts", []):
        print("fact:", fact)
    for point in card["rubric"]:
        print(f"point {point['id']}: {point['point']}")

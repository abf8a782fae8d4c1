"""Write support_tickets_pairs.jsonl: DPO pairs from our own support tickets (seeded, same bytes each run).

Each training ticket becomes one pair: the exact label is chosen; the rejected answer is a wrong
label (every other row) or the right label buried in chatter (the others), the two mistakes a
triage model makes. ``python sample_data/make_pairs.py`` rewrites the file.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

HERE = Path(__file__).resolve().parent
LABELS = ("billing", "technical", "account", "feature_request", "other")
CHATTY = (
    "Thanks for reaching out! I think this one is probably about {label}, but I may be wrong.",
    "This looks like it could be {label}. Let me know if you need anything else!",
    "Category: {label}. Please double-check, I am not completely sure.",
)


def main() -> None:
    rng = random.Random(7)
    rows = []
    for i, line in enumerate((HERE / "support_tickets_train.jsonl").read_text(encoding="utf-8").splitlines()):
        messages = json.loads(line)["messages"]
        label = messages[-1]["content"]
        if i % 2 == 0:
            rejected = rng.choice([other for other in LABELS if other != label])
        else:
            rejected = rng.choice(CHATTY).format(label=label)
        rows.append({"prompt": messages[:-1], "chosen": [{"role": "assistant", "content": label}],
                     "rejected": [{"role": "assistant", "content": rejected}]})
    out = HERE / "support_tickets_pairs.jsonl"
    out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    print(f"wrote {len(rows)} pairs to {out.name}")


if __name__ == "__main__":
    main()

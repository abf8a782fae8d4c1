"""Write sample_data/dirty.jsonl and dirty_eval.jsonl: a chat dataset with planted defects.

Run ``python sample_data/make_dirty.py`` to regenerate (seeded, byte-for-byte stable).
It prints which row plants which lint check id; sample_data/README.md lists the same.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

HERE = Path(__file__).resolve().parent
SYSTEM = "You are the support assistant for Acme Cloud. Answer clearly and briefly."
WORDS = (
    "account backup billing bucket cache cluster console credit dashboard database deploy disk domain export firewall "
    "folder gateway image instance invoice key latency limit log metric migration monitor network node object plan "
    "policy quota region replica restore role route schedule secret server snapshot storage subnet team template "
    "token upload usage user version volume webhook zone alert archive branch bundle certificate channel client"
).split()


def sentence(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n)).capitalize() + "."


def chat(user: str, answer: str, system: str | None = SYSTEM, **extra) -> dict:
    msgs = ([{"role": "system", "content": system}] if system else []) + [
        {"role": "user", "content": user},
        {"role": "assistant", "content": answer},
    ]
    return {"messages": msgs, **extra}


def main() -> None:
    rng = random.Random(7)
    rows: list[bytes] = []
    plants: dict[str, list[int]] = {}

    def add(obj, *ids: str) -> int:
        line = obj if isinstance(obj, bytes) else json.dumps(obj, ensure_ascii=False).encode()
        rows.append(line)
        for i in ids:
            plants.setdefault(i, []).append(len(rows))
        return len(rows)

    base = []
    for _ in range(40):
        q = "How do I " + " ".join(rng.choice(WORDS) for _ in range(8)) + "?"
        a = " ".join(sentence(rng, 9) for _ in range(3))
        base.append((q, a))
        add(chat(q, a))
    dominant = "Please open a ticket in the console and our team will follow up within one business day."
    for _ in range(9):  # W010: one response dominates (file level)
        q = "Can you " + " ".join(rng.choice(WORDS) for _ in range(8)) + "?"
        add(chat(q, dominant), "W010")

    add(b'{"messages": [{"role": "user", "content": "caf\xe9 au lait"}, {"role": "assistant", "content": "Sure."}]}', "E001")
    add(chat("Null byte here: \u0000 in the text.", "I cannot read that part of your message."), "E001")
    add(b'{"messages": [{"role": "user", "content": "hello"}, {"role": "assistant", "content": "hi"}', "E002")
    add(b'{"messages": [{"role": "user", "content": "first", "content": "second"}, {"role": "assistant", "content": "Which one do you mean?"}]}', "E002")
    add(b'{"messages": [{"role": "user", "content": "score me"}, {"role": "assistant", "content": "Done."}], "score": NaN}', "E002")
    add(["not", "an", "object"], "E003")
    add({"instruction": "Summarise the ticket.", "input": "Disk full.", "output": "The disk is full."}, "E004")
    add({"question": "What is a bucket?", "answer": "A container for objects."}, "E004")
    add({"messages": "user: hi / assistant: hello"}, "E005")
    add({"messages": [{"role": "user", "content": 42}, {"role": "assistant", "content": "Forty-two."}]}, "E005")
    add(chat("What regions do you support?", ""), "E006")
    add({"messages": [{"role": "user", "content": "Reset my key."}, {"role": "bot", "content": "Done."}]}, "E007")
    add({"messages": [{"role": "system", "content": SYSTEM}, {"role": "user", "content": "Anyone there? I am waiting for an answer about billing."}]}, "E008", "W007")
    add({"messages": [{"role": "system", "content": SYSTEM}, {"role": "user", "content": "My upload fails."},
                      {"role": "user", "content": "It says quota exceeded."},
                      {"role": "assistant", "content": "Your storage quota is used up; delete old snapshots or raise the quota in Billing."}]}, "E009")
    add({"messages": [{"role": "system", "content": SYSTEM}, {"role": "user", "content": "Rotate my API key please."},
                      {"role": "assistant", "content": "I rotated the key; the old one stops working in one hour.", "weight": 2}]}, "E010")
    add({"messages": [{"role": "system", "content": SYSTEM}, {"role": "user", "content": "Weather in Paris for my deploy window?"},
                      {"role": "assistant", "content": None, "tool_calls": [{"id": "call_1", "type": "function",
                       "function": {"name": "get_weather", "arguments": {"city": "Paris"}}}]},
                      {"role": "tool", "tool_call_id": "call_9", "content": "{\"temp\": 18}"},
                      {"role": "assistant", "content": "It will be 18 degrees in Paris, fine for the deploy window."}]}, "E011")
    huge = " ".join(sentence(rng, 12) for _ in range(3300))  # ~270k characters: over 65,536 tokens
    add(chat("Write the full migration log for the cluster.", huge), "E013", "W001", "W009")
    long_prompt = " ".join(sentence(rng, 12) for _ in range(60))  # ~4,500 characters: fills 1,024 tokens
    add(chat(long_prompt, "Summary: the migration finished without data loss."), "E015", "W009")
    half = " ".join(sentence(rng, 12) for _ in range(32))
    add(chat("Explain the backup policy options in detail. " + half, "Here are the options. " + half), "W001", "W009")
    q2, a2 = base[1]
    add(chat(q2, a2), "W002")
    q3, a3 = base[2]
    add(chat(q3, a3.rsplit(" ", 1)[0] + " today."), "W003")
    q4, _ = base[3]
    add(chat(q4, "That is not possible on your plan; upgrade to Business to enable it."), "W004")
    add(chat("How do I move a snapshot to another region without downtime?",
             "Copy the snapshot to the target region, restore it there and switch traffic once the replica is in sync."), "W005")
    add(chat("How do I invite a teammate to my Acme Cloud project and give them read access only?",
             "Open Settings, choose Members, invite them by e-mail and pick the Viewer role before you send the invite."), "W005")
    add(chat("Which plan includes priority support for production outages?",
             "The Business plan includes priority support with a one-hour response time for outages.",
             system="You are the support assistant for Acme Cloud. Answer clearly and briefly!!"), "W006")
    add({"messages": [{"role": "system", "content": SYSTEM}, {"role": "user", "content": "Can I pause billing?"},
                      {"role": "assistant", "content": "Yes, pausing keeps your data and stops compute charges."},
                      {"role": "user", "content": "Great, and how do I resume later?"}]}, "W007")
    add(chat("How long are logs kept on the free plan?", "Logs are kept for seven days on the free plan.", system=None), "W008")
    add(chat("What is the quota for buckets?", " ".join(sentence(rng, 12) for _ in range(25))), "W009")
    add(chat("My colleague is jane.doe@example.com, phone +1 (555) 123-4567; our key is sk-live0123456789abcdefghij.",
             "Please do not share keys in tickets; rotate that key now in the console."), "W011")
    add(chat("The log shows \u001b[31mERROR\u001b[0m and [bold]disk full[/bold] with caf\ufffd in names.",
             "The disk is full; free space or resize the volume, then restart the service."), "W012")
    add(chat("How do I export my invoices as CSV files each month?", "Open Billing, choose Invoices and click Export to CSV.",
             id="t-1001", messages_meta={"source": "zendesk"}), "W013")
    add(chat("Write the renewal reminder.", "Hello {{customer_name}}, your plan renews on <RENEWAL_DATE>. Thanks for choosing Acme."), "W014")
    add(chat("How do I end a session in the CLI?", "Type exit and press Enter.<|im_end|>"), "W015")
    add(chat("How do I rotate the storage keys for a bucket?", "First open the console, then go to the bucket settings and click the"), "W016")
    add(chat("Show a script that lists buckets.", "```python\nfor b in client.list_buckets():\n    print(b.name)\n"), "W016", "W017")
    add(chat("Give the status of ticket 1234 as JSON.", "{\"ticket\": 1234, \"status\": \"open\"}"), "W017")
    for _ in range(4):
        q = "Where do I " + " ".join(rng.choice(WORDS) for _ in range(8)) + "?"
        add(chat(q, " ".join(sentence(rng, 9) for _ in range(3))))
    add(b'{"messages": [{"role": "user", "content": "this line was cut off mid-wri', "E002")

    body = b"\xef\xbb\xbf" + b"\n".join(rows)  # a BOM (W012 on row 1) and no newline after the cut last line
    plants.setdefault("W012", []).insert(0, 1)
    (HERE / "dirty.jsonl").write_bytes(body)

    eval_rows = [
        chat("How do I move a snapshot to another region without downtime?",
             "Copy the snapshot to the target region, restore it there and switch traffic once the replica is in sync."),
        chat("How do I invite a teammate to my Acme Cloud project and give them read access only?",
             "Open Settings, choose Members, invite them by e-mail and pick the Viewer role before you send the invitation."),
        chat("Does Acme Cloud offer a free trial of the Business plan?", "Yes, a 14-day trial with no card needed."),
    ]
    (HERE / "dirty_eval.jsonl").write_text("".join(json.dumps(r) + "\n" for r in eval_rows))
    for cid in sorted(plants):
        print(cid, ", ".join(map(str, plants[cid])))


if __name__ == "__main__":
    main()

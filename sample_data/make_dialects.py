"""Write the small dialect and preference files in this folder (deterministic: same bytes every run).

    python sample_data/make_dialects.py [--out DIR]

Every row was written for ftui. The same handful of exchanges is spelled in each dialect
other tools ship (content parts with ``text`` or ``value``, reasoning, tool calls in the
OpenAI, Qwen/Hermes and ShareGPT forms), so ``ftui lint`` and ``ftui data convert`` can be
shown on each; then preference data, paired (DPO/ORPO) and unpaired (KTO), a clean file of
each and a dirty paired file with planted defects (listed in README.md).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent

# (question, answer) pairs for the content-part and reasoning files
QA = [
    ("How many minutes are in three and a half hours?", "210 minutes: 3 x 60 = 180, plus 30.", "Three hours are 180 minutes and half an hour is 30 more."),
    ("Name the largest planet in the solar system.", "Jupiter.", "Jupiter is about eleven times wider than Earth, the biggest of the eight."),
    ("Is 91 a prime number?", "No: 91 = 7 x 13.", "Try small divisors: 91 / 7 = 13 exactly, so it has factors other than 1 and itself."),
    ("What does HTTP status 404 mean?", "The server found no resource at that URL (Not Found).", "4xx codes are client errors; 404 is the one for a missing resource."),
    ("Convert 5 kilometres to miles.", "About 3.11 miles.", "One kilometre is 0.621 miles, and 5 x 0.621 = 3.107."),
    ("Which gas do plants take in for photosynthesis?", "Carbon dioxide.", "Photosynthesis turns carbon dioxide and water into sugar and oxygen."),
    ("Give a synonym for 'rapid'.", "Swift.", "Rapid means fast; swift has the same meaning and register."),
    ("What is the boiling point of water at sea level in Fahrenheit?", "212 degrees Fahrenheit.", "100 C times 9/5 is 180, plus 32 gives 212."),
    ("Who wrote the novel 'Frankenstein'?", "Mary Shelley, published in 1818.", "The novel is Mary Shelley's; the first edition appeared anonymously in 1818."),
    ("What is the square root of 144?", "12.", "12 x 12 = 144, so the positive root is 12."),
    ("Which ocean lies between Africa and Australia?", "The Indian Ocean.", "Africa's east coast and Australia's west coast both face the Indian Ocean."),
    ("How many bytes are in a kibibyte?", "1,024 bytes.", "The binary prefix kibi means 2 to the power 10, which is 1,024."),
]

# (user request, tool name, arguments, tool result, final answer)
TOOL_TASKS = [
    ("What's the weather in Oslo right now?", "get_weather", {"city": "Oslo"}, {"temp_c": -3, "sky": "snow"}, "It is -3 C and snowing in Oslo."),
    ("Convert 250 euros to US dollars.", "convert_currency", {"amount": 250, "from": "EUR", "to": "USD"}, {"result": 271.5}, "250 EUR is about 271.50 USD at today's rate."),
    ("Is the 9:15 train to Leeds on time?", "train_status", {"service": "09:15", "destination": "Leeds"}, {"status": "delayed", "minutes": 12}, "The 9:15 to Leeds is running 12 minutes late."),
    ("Add 'buy oat milk' to my shopping list.", "add_item", {"list": "shopping", "item": "buy oat milk"}, {"ok": True, "count": 7}, "Done: oat milk is on your shopping list (7 items now)."),
    ("How far is it from Lyon to Marseille by road?", "route_distance", {"from": "Lyon", "to": "Marseille"}, {"km": 314}, "It is about 314 km by road from Lyon to Marseille."),
    ("What time is it in Tokyo?", "local_time", {"timezone": "Asia/Tokyo"}, {"time": "18:42"}, "It is 18:42 in Tokyo."),
    ("Set a timer for 25 minutes.", "set_timer", {"minutes": 25}, {"timer_id": "t-81"}, "Your 25-minute timer is running."),
    ("How many open tickets does team Falcon have?", "count_tickets", {"team": "Falcon", "state": "open"}, {"count": 14}, "Team Falcon has 14 open tickets."),
    ("Look up the population of Reykjavik.", "city_facts", {"city": "Reykjavik", "field": "population"}, {"population": 139875}, "Reykjavik has about 140,000 inhabitants."),
    ("Book the small meeting room for 3pm tomorrow.", "book_room", {"room": "small", "start": "15:00", "day": "tomorrow"}, {"booking": "B-2207"}, "Booked: small meeting room tomorrow at 3pm (booking B-2207)."),
]

TOOL_NAMES = sorted({t[1] for t in TOOL_TASKS})


def tool_decls() -> list[dict[str, Any]]:
    """Every function the tool files call, declared the way OpenAI and HF chat templates take them."""
    out = []
    for name in TOOL_NAMES:
        keys = next(t[2] for t in TOOL_TASKS if t[1] == name)
        props = {k: {"type": "number" if isinstance(v, (int, float)) else "string"} for k, v in keys.items()}
        out.append({"type": "function", "function": {"name": name, "description": f"{name.replace('_', ' ')}",
                                                     "parameters": {"type": "object", "properties": props, "required": list(keys)}}})
    return out


SYSTEM_TOOLS = "You are a helpful assistant that uses the tools provided when a question needs live data."


def text_parts() -> list[dict[str, Any]]:
    return [{"messages": [{"role": "user", "content": [{"type": "text", "text": q}]},
                          {"role": "assistant", "content": [{"type": "text", "text": a}]}]} for q, a, _ in QA]


def value_parts() -> list[dict[str, Any]]:
    return [{"messages": [{"role": "user", "content": [{"type": "text", "value": q}]},
                          {"role": "assistant", "content": [{"type": "text", "value": a}]}]} for q, a, _ in QA]


def reasoning() -> list[dict[str, Any]]:
    rows = []
    for i, (q, a, why) in enumerate(QA):
        if i % 2:  # reasoning as the model's field
            answer: dict[str, Any] = {"role": "assistant", "reasoning_content": why, "content": a}
        else:  # reasoning as a part before the answer
            answer = {"role": "assistant", "content": [{"type": "reasoning", "text": why}, {"type": "text", "text": a}]}
        rows.append({"messages": [{"role": "user", "content": q}, answer]})
    return rows


def tools_openai() -> list[dict[str, Any]]:
    rows = []
    for i, (q, name, args, result, answer) in enumerate(TOOL_TASKS):
        cid = f"call_{i + 1:03d}"
        rows.append({"messages": [
            {"role": "system", "content": SYSTEM_TOOLS},
            {"role": "user", "content": q},
            {"role": "assistant", "content": None, "tool_calls": [
                {"id": cid, "type": "function", "function": {"name": name, "arguments": json.dumps(args)}}]},
            {"role": "tool", "tool_call_id": cid, "content": json.dumps(result)},
            {"role": "assistant", "content": answer}], "tools": tool_decls()})
    return rows


def tools_qwen() -> list[dict[str, Any]]:
    """Qwen / Llama style, as HF chat templates take it: no ids, arguments as an object."""
    return [{"messages": [
        {"role": "system", "content": SYSTEM_TOOLS},
        {"role": "user", "content": q},
        {"role": "assistant", "content": "", "tool_calls": [{"type": "function", "function": {"name": name, "arguments": args}}]},
        {"role": "tool", "name": name, "content": json.dumps(result)},
        {"role": "assistant", "content": answer}], "tools": tool_decls()} for q, name, args, result, answer in TOOL_TASKS]


def tools_hermes() -> list[dict[str, Any]]:
    """Hermes raw form: the call and the reply are tags in the text."""
    return [{"messages": [
        {"role": "system", "content": SYSTEM_TOOLS},
        {"role": "user", "content": q},
        {"role": "assistant", "content": "<tool_call>\n" + json.dumps({"name": name, "arguments": args}) + "\n</tool_call>"},
        {"role": "tool", "content": "<tool_response>\n" + json.dumps(result) + "\n</tool_response>"},
        {"role": "assistant", "content": answer}], "tools": tool_decls()} for q, name, args, result, answer in TOOL_TASKS]


def sharegpt_tools() -> list[dict[str, Any]]:
    """ShareGPT with function_call / observation turns and tools as a JSON string (LLaMA-Factory's form)."""
    decls = json.dumps([d["function"] for d in tool_decls()])
    return [{"conversations": [
        {"from": "human", "value": q},
        {"from": "function_call", "value": json.dumps({"name": name, "arguments": args})},
        {"from": "observation", "value": json.dumps(result)},
        {"from": "gpt", "value": answer}], "system": SYSTEM_TOOLS, "tools": decls} for q, name, args, result, answer in TOOL_TASKS]


# (prompt, better answer, worse answer): the better one is not always the longer one
PAIRS = [
    ("Explain what a hash map is in one sentence.", "A hash map stores key-value pairs and finds a value from its key in about constant time by hashing the key.", "It is a map."),
    ("What should I do if my phone gets wet?", "Power it off, dry the outside, and leave it in a dry, ventilated place for a day before charging.", "Put it in the microwave for a minute to dry it quickly; the heat drives the water out of it."),
    ("Translate 'good morning' into Spanish.", "Buenos dias.", "Buenas noches, which is how Spanish speakers greet each other early in the day."),
    ("Is it safe to mix bleach and ammonia for cleaning?", "No. Mixing them releases toxic chloramine gas; use one product at a time and ventilate.", "Yes, together they clean better."),
    ("Summarise: 'The meeting moved from Tuesday to Thursday at 10.'", "The meeting is now on Thursday at 10.", "There is a meeting and it was on Tuesday, and the time of the meeting is something to keep in mind as well."),
    ("Write a haiku about autumn.", "Red leaves drift and fall / the cold river carries them / past the quiet mill", "Autumn is a season. Leaves fall. It gets cold."),
    ("How do I reverse a list in Python?", "Use my_list.reverse() to reverse it in place, or my_list[::-1] for a reversed copy.", "Python lists cannot be reversed; copy the items into a new list by hand in a loop from the end."),
    ("What is 15% of 80?", "12.", "15% of 80 is 15, because percent means out of a hundred and 80 is close to a hundred."),
    ("Give one tip for a job interview.", "Prepare two short stories about problems you solved; they answer most behavioural questions.", "Be yourself."),
    ("Why is the sky blue?", "Air scatters short blue wavelengths of sunlight much more than red ones, so blue light reaches us from every direction.", "Because it reflects the ocean."),
    ("Name a renewable source of energy.", "Wind power.", "Coal, since new coal keeps forming underground over millions of years."),
    ("What is the capital of Canada?", "Ottawa.", "Toronto, the largest city in the country and the seat of its government."),
    ("Suggest a name for a grey cat.", "Pewter.", "Cat."),
    ("How long should I boil an egg for a soft yolk?", "About 6 minutes from boiling, then cool it in cold water.", "Twenty minutes, so the yolk stays runny and soft in the middle."),
    ("Correct the grammar: 'She don't like apples.'", "She doesn't like apples.", "She don't likes apples."),
    ("What does CPU stand for?", "Central processing unit.", "Computer power unit, the part that supplies electricity to the other components of a computer."),
]


def paired() -> list[dict[str, Any]]:
    """TRL's explicit-prompt forms: strings (standard) for half, conversations for the other half."""
    rows: list[dict[str, Any]] = []
    for i, (p, good, bad) in enumerate(PAIRS):
        if i % 2:
            rows.append({"prompt": [{"role": "user", "content": p}], "chosen": [{"role": "assistant", "content": good}],
                         "rejected": [{"role": "assistant", "content": bad}]})
        else:
            rows.append({"prompt": p, "chosen": good, "rejected": bad})
    return rows


def unpaired() -> list[dict[str, Any]]:
    """KTO's unpaired form: one completion per row and a boolean label, desirable and undesirable balanced."""
    rows = []
    for i, (p, good, bad) in enumerate(PAIRS):
        keep_good = i % 2 == 0
        rows.append({"prompt": [{"role": "user", "content": p}],
                     "completion": [{"role": "assistant", "content": good if keep_good else bad}], "label": keep_good})
    return rows


def dirty_paired() -> list[dict[str, Any]]:
    """The paired file with defects planted at fixed rows (README.md lists them)."""
    rows = [{"prompt": p, "chosen": good, "rejected": bad} for p, good, bad in PAIRS]
    rows[2] = {**rows[2], "rejected": rows[2]["chosen"]}  # row 3: chosen identical to rejected (W004)
    rows[4] = {**rows[4], "chosen": "  "}  # row 5: empty side (E006)
    rows.append(dict(rows[0]))  # row 17: duplicate of row 1 (W002)
    p, good, bad = PAIRS[5]
    rows.append({"prompt": p, "chosen": bad, "rejected": good})  # row 18: contradicts row 6 (W004)
    rows.append({"chosen": [{"role": "user", "content": "Tell me a joke."}, {"role": "assistant", "content": "Why did the scarecrow win a prize? He was outstanding in his field."}],
                 "rejected": [{"role": "user", "content": "Tell me a riddle."}, {"role": "assistant", "content": "What has keys but no locks? A piano."}]})  # row 19: no shared prompt (E016)
    return rows


FILES = {
    "chat_text_parts.jsonl": text_parts,
    "chat_value_parts.jsonl": value_parts,
    "chat_reasoning.jsonl": reasoning,
    "tools_openai.jsonl": tools_openai,
    "tools_qwen.jsonl": tools_qwen,
    "tools_hermes.jsonl": tools_hermes,
    "sharegpt_tools.jsonl": sharegpt_tools,
    "preference_paired.jsonl": paired,
    "preference_unpaired.jsonl": unpaired,
    "preference_dirty.jsonl": dirty_paired,
}


def write_all(out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, make in FILES.items():
        path = out / name
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in make()), encoding="utf-8")
        written.append(path)
    return written


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=HERE)
    for p in write_all(ap.parse_args().out):
        print(p)


if __name__ == "__main__":
    main()

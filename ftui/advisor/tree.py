"""The "should you fine-tune?" decision tree: loaded from ``decision_tree.yaml`` and walked.

The tree is data so its wording can be reviewed and changed without touching code;
this module checks it (every link resolves, every leaf is reachable and complete) and
provides a small walker with back / restart that the CLI and the Plan screen share.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from ftui.advisor.errors import AdvisorError

TREE_PATH = Path(__file__).with_name("decision_tree.yaml")
LEAF_FIELDS = ("title", "recommendation", "why", "next_steps", "data_size", "method", "method_label",
               "hyperparameters", "risks")
TRAIN_METHODS = ("full", "lora", "qlora", "openai")


@dataclass(frozen=True)
class Option:
    key: str
    label: str
    next: str


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    options: tuple[Option, ...]
    help: str = ""

    def option(self, key: str) -> Option | None:
        key = key.strip().lower()
        return next((o for o in self.options if o.key.lower() == key), None)


@dataclass(frozen=True)
class Outcome:
    id: str
    title: str
    recommendation: str
    why: str
    next_steps: tuple[str, ...]
    data_size: str
    method: str  # a RunConfig method, or "none" when the advice is not to train (yet)
    method_label: str
    hyperparameters: dict[str, Any]
    risks: tuple[str, ...]
    hyperparameters_note: str = ""
    template: str = ""
    break_even: bool = False

    @property
    def trains(self) -> bool:
        return self.method in TRAIN_METHODS


@dataclass(frozen=True)
class DecisionTree:
    start: str
    questions: dict[str, Question]
    outcomes: dict[str, Outcome]

    def node(self, node_id: str) -> Question | Outcome:
        return self.questions.get(node_id) or self.outcomes[node_id]

    def paths(self) -> list[list[tuple[str, str]]]:
        """Every root-to-leaf path as [(question id, option key), ..., (leaf id, "")]."""
        out: list[list[tuple[str, str]]] = []

        def walk(node_id: str, trail: list[tuple[str, str]], seen: frozenset[str]) -> None:
            if node_id in self.outcomes:
                out.append([*trail, (node_id, "")])
                return
            for opt in self.questions[node_id].options:
                if opt.next in seen:
                    continue  # a link back up the tree: not a new path
                walk(opt.next, [*trail, (node_id, opt.key)], seen | {opt.next})

        walk(self.start, [], frozenset({self.start}))
        return out


def _parse(data: dict[str, Any]) -> DecisionTree:
    questions = {
        qid: Question(
            qid,
            q["question"],
            tuple(Option(str(o["key"]), o["label"], o["next"]) for o in q["options"]),
            q.get("help", ""),
        )
        for qid, q in data["questions"].items()
    }
    outcomes = {}
    for lid, leaf in data["leaves"].items():
        missing = [f for f in LEAF_FIELDS if not leaf.get(f)]
        if missing:
            raise AdvisorError(f"decision tree leaf {lid!r} lacks {', '.join(missing)}")
        outcomes[lid] = Outcome(
            id=lid,
            title=leaf["title"],
            recommendation=leaf["recommendation"],
            why=leaf["why"],
            next_steps=tuple(leaf["next_steps"]),
            data_size=leaf["data_size"],
            method=leaf["method"],
            method_label=leaf["method_label"],
            hyperparameters=dict(leaf["hyperparameters"]),
            risks=tuple(leaf["risks"]),
            hyperparameters_note=leaf.get("hyperparameters_note", ""),
            template=leaf.get("template", ""),
            break_even=bool(leaf.get("break_even", False)),
        )
    tree = DecisionTree(data["start"], questions, outcomes)
    _check(tree)
    return tree


def _check(tree: DecisionTree) -> None:
    ids = set(tree.questions) | set(tree.outcomes)
    if tree.start not in tree.questions:
        raise AdvisorError(f"decision tree start {tree.start!r} is not a question")
    for q in tree.questions.values():
        keys = [o.key for o in q.options]
        if len(set(keys)) != len(keys):
            raise AdvisorError(f"question {q.id!r} repeats an option key")
        for o in q.options:
            if o.next not in ids:
                raise AdvisorError(f"question {q.id!r} option {o.key!r} points at unknown node {o.next!r}")
    reached = {node for path in tree.paths() for node, _ in path}
    orphans = ids - reached
    if orphans:
        raise AdvisorError(f"decision tree nodes never reached: {', '.join(sorted(orphans))}")


@lru_cache(maxsize=4)
def load_tree(path: Path = TREE_PATH) -> DecisionTree:
    from ftui.yamlio import load_file_cached

    return _parse(load_file_cached(Path(path)))


@dataclass
class Step:
    question: Question
    option: Option


@dataclass
class Walker:
    """One walk through the tree: answer, go back, restart; knows the outcome when at a leaf."""

    tree: DecisionTree = field(default_factory=load_tree)
    steps: list[Step] = field(default_factory=list)

    @property
    def current_id(self) -> str:
        return self.steps[-1].option.next if self.steps else self.tree.start

    @property
    def current(self) -> Question | Outcome:
        return self.tree.node(self.current_id)

    @property
    def outcome(self) -> Outcome | None:
        node = self.current
        return node if isinstance(node, Outcome) else None

    @property
    def question(self) -> Question | None:
        node = self.current
        return node if isinstance(node, Question) else None

    def answer(self, key: str) -> bool:
        """Take the option with this key; False (and no change) if it is not an option here."""
        q = self.question
        if q is None:
            return False
        opt = q.option(key)
        if opt is None:
            return False
        self.steps.append(Step(q, opt))
        return True

    def back(self) -> bool:
        if not self.steps:
            return False
        self.steps.pop()
        return True

    def restart(self) -> None:
        self.steps.clear()

    @property
    def depth(self) -> int:
        return len(self.steps) + 1


def walk(answers: dict[str, str] | list[str], tree: DecisionTree | None = None) -> Walker:
    """Walk headless: ``answers`` maps question id -> option key (or is a list of keys in order).

    Raises AdvisorError naming the question and the allowed keys when an answer is
    missing or not an option, so ``--answers`` typos get a precise message.
    """
    walker = Walker(tree or load_tree())
    queue = list(answers) if isinstance(answers, list) else None
    used: set[str] = set()
    while walker.question is not None:
        q = walker.question
        if queue is not None:
            if not queue:
                break
            key = queue.pop(0)
        else:
            if q.id not in answers:
                break
            key = answers[q.id]
            used.add(q.id)
        if not walker.answer(str(key)):
            allowed = ", ".join(f"{o.key} ({o.label})" for o in q.options)
            raise AdvisorError(f"answer {key!r} to {q.id!r} is not an option; use one of: {allowed}")
    if isinstance(answers, dict):
        unknown = [k for k in answers if k not in walker.tree.questions]
        if unknown:
            raise AdvisorError(
                f"unknown question id(s) {', '.join(unknown)}; ids are: {', '.join(walker.tree.questions)}"
            )
    return walker

"""The decision tree: every path walks to a complete leaf; back/restart; headless answers."""

from __future__ import annotations

import pytest

from ftui.advisor.errors import AdvisorError
from ftui.advisor.tree import LEAF_FIELDS, TRAIN_METHODS, Walker, load_tree, walk
from ftui.config import RunConfig

TREE = load_tree()
PATHS = TREE.paths()


def test_every_leaf_is_reachable() -> None:
    reached = {path[-1][0] for path in PATHS}
    assert reached == set(TREE.outcomes)
    assert len(TREE.outcomes) >= 8


@pytest.mark.parametrize("path", PATHS, ids=["-".join(k for _, k in p[:-1]) + "->" + p[-1][0] for p in PATHS])
def test_walking_each_path_reaches_its_leaf(path: list[tuple[str, str]]) -> None:
    walker = Walker(TREE)
    for qid, key in path[:-1]:
        assert walker.current_id == qid
        assert walker.answer(key)
    outcome = walker.outcome
    assert outcome is not None and outcome.id == path[-1][0]
    assert outcome.recommendation and outcome.method and outcome.method_label


@pytest.mark.parametrize("leaf_id", sorted(TREE.outcomes))
def test_leaf_is_complete(leaf_id: str) -> None:
    leaf = TREE.outcomes[leaf_id]
    for name in LEAF_FIELDS:
        assert getattr(leaf, name), f"{leaf_id} lacks {name}"
    assert leaf.method in (*TRAIN_METHODS, "none")
    assert len(leaf.next_steps) >= 2 and len(leaf.risks) >= 2
    fields = set(RunConfig.__dataclass_fields__)
    assert set(leaf.hyperparameters) <= fields, "hyperparameter keys must be RunConfig fields"
    for key in ("lora_r", "lora_alpha", "lora_dropout", "target_modules", "learning_rate", "num_epochs"):
        assert key in leaf.hyperparameters
    if not leaf.trains:
        assert leaf.hyperparameters_note, "a no-training leaf must say when its hyperparameters apply"
    else:
        risks = " ".join(leaf.risks).lower()
        for risk in ("overfitting", "forgetting", "format drift"):
            assert risk in risks, f"{leaf_id} is a fine-tune but names no {risk} risk"


def test_practice_the_tree_encodes() -> None:
    assert walk({"gap": "1", "facts_change": "y"}).outcome.id == "rag"
    assert walk({"gap": "2", "prompt_fixes": "y", "volume": "n"}).outcome.id == "prompt"
    assert walk({"gap": "2", "prompt_fixes": "n", "problem_kind": "1", "style_examples": "1"}).outcome.id == (
        "collect_data")
    lora = walk(["2", "n", "1", "2"]).outcome
    assert lora.id == "lora_style" and lora.method == "lora" and "50" in lora.data_size
    assert walk(["3", "y", "y", "n"]).outcome.break_even
    assert TREE.outcomes["prompt"].template


def test_back_and_restart() -> None:
    walker = Walker(TREE)
    assert not walker.back()
    assert not walker.answer("9")
    walker.answer("2")
    walker.answer("n")
    assert walker.current_id == "problem_kind" and walker.depth == 3
    assert walker.back() and walker.current_id == "prompt_fixes"
    walker.restart()
    assert walker.current_id == TREE.start and walker.steps == []


def test_walk_errors_name_the_question_and_options() -> None:
    with pytest.raises(AdvisorError) as err:
        walk({"gap": "7"})
    assert "gap" in str(err.value) and "1 (" in str(err.value)
    with pytest.raises(AdvisorError, match="unknown question"):
        walk({"gap": "1", "nonsense": "y"})


def test_partial_answers_stop_at_the_next_question() -> None:
    walker = walk({"gap": "2"})
    assert walker.outcome is None and walker.current_id == "prompt_fixes"

"""Near duplicates (MinHash LSH, verified), and their use in lint: exact, near, contradiction, leakage."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest

from ftui.data.dedup import MinHashLSH, jaccard, near_duplicates, shingle_set

WORDS = [f"w{i}" for i in range(500)]


def _doc(rng: random.Random, n: int = 60) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n))


def test_signature_agreement_estimates_jaccard() -> None:
    rng = random.Random(1)
    a = _doc(rng, 200)
    words = a.split()
    b = " ".join(words[:150] + [rng.choice(WORDS) for _ in range(50)])
    lsh = MinHashLSH()
    sig = lsh.signatures([a, b])
    est = float(np.mean(sig[:, 0] == sig[:, 1]))
    true = jaccard(shingle_set(a), shingle_set(b))
    assert abs(est - true) < 0.15


def test_near_duplicates_found_and_verified() -> None:
    rng = random.Random(2)
    docs = [_doc(rng) for _ in range(300)]
    near = docs[10].split()
    near[-1] = "changed"
    docs.append(" ".join(near))  # id 300 ~ id 10
    docs.append(docs[20])  # id 301 == id 20
    pairs = {(i, j) for i, j, _ in near_duplicates(docs)}
    assert (10, 300) in pairs and (20, 301) in pairs
    assert len(pairs) == 2  # random docs are never reported
    assert all(jac >= 0.8 for _i, _j, jac in near_duplicates(docs))


def test_short_texts_are_one_shingle() -> None:
    pairs = near_duplicates(["hi there", "hi there", "bye"])
    assert [(i, j) for i, j, _ in pairs] == [(0, 1)]


def test_query_against_another_index() -> None:
    rng = random.Random(3)
    train = [_doc(rng) for _ in range(100)]
    evald = [train[5], _doc(rng)]
    a, b = MinHashLSH(), MinHashLSH()
    a.add(train)
    b.add(evald)
    assert (5, 0) in set(a.query(b))


def test_spilled_band_hashes_give_the_same_candidates(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Band hashes written to the spill file (band-major blocks) read back exactly as the in-memory ones."""
    from ftui.data import dedup

    rng = random.Random(4)
    docs = [_doc(rng) for _ in range(600)]
    for i, j in ((3, 590), (100, 400), (250, 251)):
        words = docs[i].split()
        words[-1] = "changed"
        docs[j] = " ".join(words)
    kept = MinHashLSH()
    monkeypatch.setattr(dedup, "SPILL_BYTES", 4000)  # ~30 documents
    spilled = MinHashLSH(spill_dir=str(tmp_path))
    for lsh in (kept, spilled):
        for k in range(0, len(docs), 50):
            lsh.add(docs[k : k + 50])
    assert not any(isinstance(p, tuple) for p in kept._chunks)
    assert all(isinstance(p, tuple) for p in spilled._chunks[:-1]) and len(list(tmp_path.iterdir())) == 1
    assert spilled.count == kept.count == 600
    assert np.array_equal(spilled.band_hashes(), kept.band_hashes())
    assert list(spilled.candidate_pairs()) == list(kept.candidate_pairs())
    assert {(3, 590), (100, 400), (250, 251)} <= set(spilled.candidate_pairs())
    other = MinHashLSH(spill_dir=str(tmp_path))  # a second range's LSH, merged after this one
    other.add(docs[:40])
    other.spill()
    spilled.extend(other._chunks)
    assert spilled.count == 640 and np.array_equal(spilled.band_column(5)[600:], kept.band_column(5)[:40])

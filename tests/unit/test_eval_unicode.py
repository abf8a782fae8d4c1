"""Unicode-aware tokens for ROUGE-L and word counts: hand-computed cases in Hindi, Thai, Chinese and
Arabic, and equality with the reference ``rouge-score`` package on English (issue #14 point 2)."""

from __future__ import annotations

import random

import pytest

from ftui.evaluate import metrics as M


def test_hindi_combining_marks_stay_in_their_word() -> None:
    # virama (्) and vowel signs (े, ु, ि) are marks: 'नमस्ते' is one word, not ['नमस', 'त']
    assert M.tokenize("नमस्ते दुनिया") == ["नमस्ते", "दुनिया"]
    # one shared word of two on each side: P = R = 1/2 -> F1 = 0.5 (no sub-word fragments shared)
    assert M.rouge_l_f1("नमस्ते दुनिया", "नमस्ते भारत") == pytest.approx(0.5)
    # different words that share their first syllables must not share tokens
    assert M.rouge_l_f1("किताब पढ़ो", "कितना पढ़ो") == pytest.approx(0.5)


def test_thai_without_spaces_is_compared_by_grapheme_cluster() -> None:
    # ส วั ส ดี ค รั บ (7) vs ส วั ส ดี ค่ ะ (6): the tone mark stays on ค่, LCS = 4 -> F1 = 8/13
    assert M.tokenize("สวัสดีค่ะ") == ["ส", "วั", "ส", "ดี", "ค่", "ะ"]
    assert M.rouge_l_f1("สวัสดีครับ", "สวัสดีค่ะ") == pytest.approx(8 / 13)


def test_chinese_one_token_per_character_and_latin_words_kept() -> None:
    assert M.tokenize("我喜欢猫 OK") == ["我", "喜", "欢", "猫", "ok"]
    # 4 characters each, LCS 3 -> P = R = 3/4
    assert M.rouge_l_f1("我喜欢猫", "我喜欢狗") == pytest.approx(0.75)


def test_arabic_harakat_stay_in_their_word() -> None:
    assert M.tokenize("مَرْحَبًا بِكَ") == ["مَرْحَبًا", "بِكَ"]
    # P = 3/4, R = 3/3 -> F1 = 2·(3/4)·1 / (7/4) = 6/7
    assert M.rouge_l_f1("مرحبا بك يا صديقي", "مرحبا يا صديقي") == pytest.approx(6 / 7)


def test_word_counts_use_the_same_tokens() -> None:
    scores = M.score_item("नमस्ते दुनिया", "नमस्ते", "text")
    assert scores.length_words == 2


def test_english_rouge_l_matches_rouge_score() -> None:
    rouge_scorer = pytest.importorskip("rouge_score.rouge_scorer")
    scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False)
    vocab = ["The", "cat", "sat", "on", "the", "mat", "dog's", "bone,", "ran", "x2", "foo_bar", "A", "quick.",
             "brown", "fox!", "(jumps)", "over", "lazy", "42", "e-mail", "co-op", "\"quoted\""]
    rng = random.Random(5)
    for _ in range(200):
        pred = " ".join(rng.choice(vocab) for _ in range(rng.randint(1, 14)))
        ref = " ".join(rng.choice(vocab) for _ in range(rng.randint(1, 14)))
        expected = scorer.score(ref, pred)["rougeL"].fmeasure
        assert M.rouge_l_f1(pred, ref) == pytest.approx(expected, abs=1e-12), (pred, ref)


def test_ascii_text_takes_a_fast_path_with_the_same_tokens() -> None:
    """ASCII text is tokenised by a plain ``re`` pattern (12x faster): the script-aware one must agree."""
    import random
    import string

    from ftui.evaluate import metrics as M

    rng = random.Random(0)
    for _ in range(5000):
        text = "".join(rng.choice(string.printable) for _ in range(rng.randint(0, 40)))
        assert M.tokenize(text) == M._token_pattern().findall(text.casefold()), repr(text)

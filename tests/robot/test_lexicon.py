"""Strong-signal terms: found in mixed text, never inside a longer word or number."""
from __future__ import annotations

from robot.lexicon import Lexicon


def test_terms_are_found_case_insensitively_in_either_language():
    lexicon = Lexicon(["投诉", "chargeback", "report you"])
    assert lexicon.search("我要投诉你们") == "投诉"
    assert lexicon.search("I will do a CHARGEBACK") == "chargeback"
    assert lexicon.search("i will report   you") == "report   you"


def test_latin_and_digit_terms_match_whole_words_only():
    lexicon = Lexicon(["sue", "12315"])
    assert lexicon.search("there is an issue with my order") is None
    assert lexicon.search("订单381231512345678到哪了") is None
    assert lexicon.search("i will sue") == "sue"
    assert lexicon.search("再不处理打12315") == "12315"


def test_a_rejected_candidate_does_not_hide_a_later_match():
    assert Lexicon(["sue"]).search("issue, so i will sue") == "sue"


def test_an_empty_lexicon_finds_nothing():
    assert Lexicon([]).search("anything") is None

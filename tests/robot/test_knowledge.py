"""The knowledge base loads, and each kind of mistake in it is one clear sentence."""
from __future__ import annotations

import pytest

from robot.knowledge import LANGUAGES, REQUIRED_INTENTS, KnowledgeError, load_knowledge
from robot_helpers import edit


def test_the_shipped_knowledge_base_has_every_intent_in_both_languages(knowledge):
    assert set(REQUIRED_INTENTS) <= set(knowledge.intents)
    for intent in knowledge.intents.values():
        for lang in LANGUAGES:
            assert len(intent.examples[lang]) >= 30, (intent.name, lang)
            assert intent.phrasing[lang], (intent.name, lang)
            if intent.escalate is None:
                assert intent.answer[lang]
    assert {"tmall-flagship", "jd-outlet", "global-store"} <= set(knowledge.shops)


def _error(directory) -> str:
    with pytest.raises(KnowledgeError) as raised:
        load_knowledge(directory)
    message = str(raised.value)
    assert "\n" not in message, "one sentence, not a dump"
    return message


def test_a_missing_answer_names_the_file_and_key(kb_copy):
    path = kb_copy / "intents" / "invoice.toml"
    text = path.read_text(encoding="utf-8")
    start = text.index("[answer]")
    path.write_text(text[:start] + text[text.index("[phrasing]"):], encoding="utf-8")
    message = _error(kb_copy)
    assert "invoice.toml" in message and "answer" in message


def test_an_answer_missing_one_language_names_it(kb_copy):
    path = kb_copy / "intents" / "promotion.toml"
    text = path.read_text(encoding="utf-8")
    start = text.index("[answer]")
    en_line = text.index("\nen = ", start)
    path.write_text(text[:en_line] + text[text.index("\n", en_line + 1):], encoding="utf-8")
    message = _error(kb_copy)
    assert "promotion.toml" in message and "answer.en" in message


def test_an_override_of_an_unknown_intent_names_it(kb_copy):
    edit(kb_copy / "shops" / "jd-outlet.toml", "[answers.promotion]", "[answers.promotoin]")
    message = _error(kb_copy)
    assert "jd-outlet.toml" in message and "answers.promotoin" in message and "unknown intent" in message


def test_an_unknown_placeholder_names_it_and_the_allowed_ones(kb_copy):
    edit(kb_copy / "intents" / "return_refund.toml", "{shop_name}支持7天", "{shop}支持7天")
    message = _error(kb_copy)
    assert "return_refund.toml" in message and "answer.zh" in message and "{shop}" in message
    assert "{shop_name}" in message


def test_an_order_placeholder_in_an_answer_without_an_order_is_refused(kb_copy):
    # {eta} needs an order; the general answer is given when there is none
    edit(kb_copy / "intents" / "shipping_time.toml", "付款后48小时内发货", "预计{eta}发货")
    assert "{eta}" in _error(kb_copy)


def test_a_malformed_brace_is_refused(kb_copy):
    edit(kb_copy / "intents" / "invoice.toml", "（普票和增值税专票）", "{普票")
    assert "invoice.toml" in _error(kb_copy)


def test_a_file_that_is_not_toml(kb_copy):
    (kb_copy / "intents" / "greeting.toml").write_text("skill = [unclosed\n", encoding="utf-8")
    message = _error(kb_copy)
    assert "greeting.toml" in message and "TOML" in message


def test_a_file_that_is_not_utf8(kb_copy):
    (kb_copy / "lexicon.toml").write_bytes("[complaint]\nzh = [\"投诉\"]\n".encode("gbk"))
    assert "lexicon.toml" in _error(kb_copy)


def test_a_required_intent_without_a_file(kb_copy):
    (kb_copy / "intents" / "human_request.toml").unlink()
    assert "human_request" in _error(kb_copy)


def test_the_same_example_under_two_intents(kb_copy):
    edit(kb_copy / "intents" / "invoice.toml", '"开发票",', '"怎么退货",')
    message = _error(kb_copy)
    assert "怎么退货" in message and "invoice.toml" in message and "return_refund.toml" in message


def test_a_misspelt_key_is_refused_not_ignored(kb_copy):
    edit(kb_copy / "intents" / "complaint.toml", "priority_bump = 2", "priority_bumb = 2")
    message = _error(kb_copy)
    assert "complaint.toml" in message and "priority_bumb" in message


@pytest.mark.parametrize("old, new, key", [
    ("confidence_threshold = 0.45", "confidence_threshold = 1.5", "decision.confidence_threshold"),
    ("max_message_chars = 2000", 'max_message_chars = "lots"', "decision.max_message_chars"),
    ('fallback_skill = "pre_sales"', 'fallback_skill = "sales"', "decision.fallback_skill"),
])
def test_a_bad_setting_names_it(kb_copy, old, new, key):
    edit(kb_copy / "robot.toml", old, new)
    message = _error(kb_copy)
    assert "robot.toml" in message and key in message


def test_an_unknown_skill_names_it(kb_copy):
    edit(kb_copy / "intents" / "invoice.toml", 'skill = "after_sales"', 'skill = "billing"')
    assert "billing" in _error(kb_copy)


def test_a_missing_directory_or_file(tmp_path, kb_copy):
    assert str(tmp_path / "nowhere") in _error(tmp_path / "nowhere")
    (kb_copy / "slots.toml").unlink()
    assert "slots.toml" in _error(kb_copy)

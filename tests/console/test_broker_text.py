"""The broker's reasons and alerts in the user's language.

The broker sends a key and parameters beside each English sentence; the
clients render it through their translations. These tests hold the two lists
together: every key the broker can send, every error code and every alert kind
has a zh_CN rendering, and the English rendering is the broker's own sentence.
"""
from __future__ import annotations

import re

import pytest

from broker.arbiter.core import Arbiter, CoreConfig, Refusal
from broker.wire import protocol as p
from broker.wire import reasons
from supervisor.common import i18n
from supervisor.common.broker_text import broker_text
from supervisor.console.text import words


CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture
def chinese(qapp, monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))  # compiled .qm files go here
    i18n.install("zh_CN")
    yield
    i18n.install("en")


def test_the_english_templates_are_the_brokers_own(qapp):
    text = broker_text()
    assert text.reasons() == reasons.REASONS
    assert text.alerts() == reasons.ALERTS


def test_every_reason_code_and_alert_has_a_chinese_rendering(chinese):
    text = broker_text()
    untranslated = [key for key, template in text.reasons().items() if not CJK.search(template)]
    untranslated += [key for key, template in text.alerts().items() if not CJK.search(template)]
    untranslated += [code.value for code in p.ErrorCode if not CJK.search(text.codes().get(code.value, ""))]
    untranslated += [kind for kind in reasons.ALERT_KINDS if not CJK.search(words().alert_kind(kind))]
    assert untranslated == []


def test_every_translation_keeps_the_parameters_of_its_sentence(chinese):
    """A translation that drops or misspells a {name} would show a blank or a brace."""
    text = broker_text()
    names = re.compile(r"\{(\w+)\}")
    wrong = [key for catalog, rendered in ((reasons.REASONS, text.reasons()), (reasons.ALERTS, text.alerts()))
             for key, english in catalog.items()
             if sorted(names.findall(english)) != sorted(names.findall(rendered[key]))]
    assert wrong == []


def test_a_refusal_reads_in_chinese_with_its_parameters(chinese):
    core = Arbiter(CoreConfig(), clock=lambda: 1_795_000_000.0)
    with pytest.raises(Refusal) as refused:
        core.set_quality("nobody", 50.0, "boss", "")
    error = p.Error(re="1", code=refused.value.code, reason=refused.value.reason,
                    key=refused.value.key, params=refused.value.params)
    assert error.reason == "unknown agent nobody"
    assert broker_text().refusal(error) == "未知客服 nobody"


def test_status_and_tier_words_inside_a_sentence_are_translated(chinese):
    text = broker_text()
    assert text.reason("status.not_online", {"agent": "a1", "status": "away"}, "agent a1 is away, not online") \
        == "客服 a1 处于离开状态，不在线"
    assert text.word("gold") == "金牌"


def test_an_unknown_key_falls_back_to_the_code_then_the_english_sentence(chinese):
    text = broker_text()
    assert text.reason("from.a.newer.broker", {}, "something new", "not-found") == "未找到 (something new)"
    assert text.reason("", {}, "plain English", None) == "plain English"


def test_in_english_the_sentence_is_the_brokers(qapp):
    i18n.install("en")
    assert broker_text().reason("quota.daily", {"taken": 300, "quota": 300}, "x") == \
        "took 300 today, the daily quota is 300"
    assert broker_text().reason("from.a.newer.broker", {}, "the broker's words", "not-found") == "the broker's words"

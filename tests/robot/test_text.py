"""What the robot refuses to read, and the normal form everything else gets."""
from __future__ import annotations

import pytest

from robot.text import fold, language, model_form, screen

LIMIT = 2000


@pytest.mark.parametrize("text", [
    "我的快递到哪了", "where is my order", "我的order到哪了??", "订单号：３８１９２０３７４６５１８２９３０４",
    "café au lait ok", "你好😀", "line one\nline two\ttab", "Ｗｈｅｒｅ ｉｓ ｍｙ ｏｒｄｅｒ",
])
def test_ordinary_messages_are_read(text):
    assert screen(text, LIMIT).problem is None


@pytest.mark.parametrize("text, problem", [
    ("", "empty"), ("   \n ", "empty"), ("x" * (LIMIT + 1), "characters long"),
    ("abc\x00def", "control"), ("abc\x85def", "control"), ("\ufffd\ufffd\ufffd", "undecodable"),
    ("😀😀😀", "no letters"), ("???!!!", "no letters"),
    ("Где мой заказ", "script"), ("注文はどこですか、ありがとうございます", "script"),
    ("我的订单到哪了".encode().decode("latin-1"), "control"),
    ("我的订单到哪了".encode().decode("cp1252", errors="replace"), "undecodable"),
    ("Ã¤Ã¶Ã¼ ÃŸ Ã©", "garbled"),
])
def test_unreadable_messages_say_why(text, problem):
    assert problem in screen(text, LIMIT).problem


def test_binary_decoded_as_latin1_is_refused():
    assert screen(bytes(range(256)).decode("latin-1"), LIMIT).problem


@pytest.mark.parametrize("value", [None, b"bytes", 42, ["list"]])
def test_anything_not_text_is_refused_not_raised(value):
    assert "not text" in screen(value, LIMIT).problem


def test_fold_maps_full_width_quotes_and_invisible_characters():
    assert fold("ＯＫ１２３") == "OK123"
    assert fold("didn\u2019t") == "didn't"
    assert fold("投\u200b诉") == "投诉"


def test_model_form_masks_long_digit_runs_but_keeps_short_numbers():
    assert model_form("订单 381920374651829304 到哪了") == "订单 # 到哪了"
    assert model_form("满300减50 打12315") == "满300减50 打12315"


def test_language_follows_chinese_characters_then_latin_letters_then_the_default():
    assert language("where is my 快递", "en") == "zh"
    assert language("where is my parcel", "zh") == "en"
    assert language("381920374651829304", "en") == "en"
    assert language("381920374651829304", "zh") == "zh"

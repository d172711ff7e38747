"""Personal data shown masked keeps enough to tell filers apart and never the whole value."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.personal import (
    MaskedConsumer,
    mask_address,
    mask_consumer,
    mask_id_number,
    mask_name,
    mask_phone,
)
from core.ticket.vocabulary import Consumer


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("张三", "张*"),
        ("欧阳娜娜", "欧***"),
        ("王", "*"),
        ("John", "J***"),
        (" 李四 ", "李*"),
        ("", ""),
    ],
)
def test_a_masked_name_keeps_its_first_character_and_stars_the_rest(name: str, masked: str) -> None:
    assert mask_name(name) == masked


def test_masked_mobile_keeps_first_three_and_last_four() -> None:
    assert mask_phone("13909310001") == "139****0001"


def test_a_masked_mobile_drops_its_country_prefix_and_spacing() -> None:
    assert mask_phone("+86 139 0931 0001") == "139****0001"


@pytest.mark.parametrize(
    ("landline", "masked"),
    [
        ("0931-8451234", "0931-****234"),
        ("0931 84512345", "0931-*****345"),
        ("010-12345678", "010-*****678"),
        ("021 6123 4567", "021-*****567"),
    ],
)
def test_a_masked_landline_keeps_its_area_code_and_last_three(landline: str, masked: str) -> None:
    assert mask_phone(landline) == masked


@pytest.mark.parametrize(
    ("number", "masked"), [("8451234", "****234"), ("12315", "**315"), ("1234", "****"), ("", "")]
)
def test_any_other_number_keeps_at_most_its_last_three(number: str, masked: str) -> None:
    assert mask_phone(number) == masked


@pytest.mark.parametrize(
    ("address", "masked"),
    [
        ("兰州市城关区庆阳路1号", "兰州市城关区****"),
        ("甘肃省兰州市城关区庆阳路1号", "甘肃省兰州市****"),
        ("庆阳路1号", "庆****"),
        ("1号", "****"),
        ("", ""),
    ],
)
def test_a_masked_address_keeps_at_most_six_characters_and_hides_at_least_four(
    address: str, masked: str
) -> None:
    assert mask_address(address) == masked


@pytest.mark.parametrize(
    ("number", "masked"),
    [
        ("620102199001011234", "6201**********1234"),
        ("62010219900101123x", "6201**********123X"),
        ("620102 19900101 1234", "6201**********1234"),
        ("E1234567", "E******7"),
        ("AB", "**"),
        ("", ""),
    ],
)
def test_a_masked_id_number_keeps_first_four_and_last_four(number: str, masked: str) -> None:
    assert mask_id_number(number) == masked


def test_a_consumer_is_masked_field_by_field() -> None:
    consumer = Consumer("张伟", "13909310001", "兰州市城关区庆阳路1号", "620102199001011234")
    assert mask_consumer(consumer) == MaskedConsumer(
        name="张*", phone="139****0001", address="兰州市城关区****", id_number="6201**********1234"
    )


no_star = st.characters(exclude_characters="*", codec="utf-8")


@given(st.text(no_star, min_size=2, max_size=20).filter(lambda n: len(n.strip()) >= 2))
def test_a_masked_name_never_shows_the_whole_name(name: str) -> None:
    assert name.strip() not in mask_name(name)


mobiles = st.from_regex(r"\A1[3-9][0-9]{9}\Z")
landlines = st.from_regex(r"\A0[1-9][0-9]{1,2}-?[1-9][0-9]{6,7}\Z")


@given(st.one_of(mobiles, landlines), st.sampled_from(["", "+86 ", "0086"]))
def test_a_masked_phone_never_shows_the_whole_number(number: str, prefix: str) -> None:
    masked = mask_phone(prefix + number)
    assert number.replace("-", "") not in masked.replace("-", "")
    assert "*" in masked


@given(st.from_regex(r"\A[0-9]{17}[0-9X]\Z"))
def test_a_masked_id_number_never_shows_the_whole_number(number: str) -> None:
    masked = mask_id_number(number)
    assert number not in masked and masked.count("*") == 10


@given(st.text(no_star, max_size=40))
def test_a_masked_address_never_shows_the_whole_address(address: str) -> None:
    if address.strip():
        assert address.strip() not in mask_address(address)

"""Finding and masking buyers' phone numbers, ID numbers and addresses: every
near-miss (order and tracking numbers, masked values, prices, dates, bare place
names) stays as written."""

from __future__ import annotations

import pytest

from kefu.compliance import privacy
from kefu.compliance.privacy import find_pii, mask, mask_text


def found(text: str) -> list[tuple[str, str]]:
    return [(pii.kind, text[pii.start : pii.end]) for pii in find_pii(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Mobile numbers, with spaces, dashes, country code, full-width digits.
        ("电话13812345678", [("phone", "13812345678")]),
        ("电话 138 1234 5678 谢谢", [("phone", "138 1234 5678")]),
        ("+86 138-1234-5678", [("phone", "+86 138-1234-5678")]),
        ("手机:+8613812345678", [("phone", "+8613812345678")]),
        ("0086 13912345678", [("phone", "0086 13912345678")]),
        ("（+86）13812345678", [("phone", "（+86）13812345678")]),
        ("电话１３８１２３４５６７８", [("phone", "１３８１２３４５６７８")]),
        ("My number is 13812345678.", [("phone", "13812345678")]),
        ("my phone no. 13812345678", [("phone", "13812345678")]),
        ("快递员电话13812345678", [("phone", "13812345678")]),
        # Landlines with their area code.
        ("座机010-12345678", [("phone", "010-12345678")]),
        ("0571-88881234", [("phone", "0571-88881234")]),
        ("(0571)88881234", [("phone", "(0571)88881234")]),
        ("02012345678", [("phone", "02012345678")]),
        # Resident IDs: 18 characters with a valid checksum, and the old 15 digits.
        ("身份证 11010519491231002X", [("id_number", "11010519491231002X")]),
        ("身份证110105194912310011", [("id_number", "110105194912310011")]),
        ("id 11010519491231002x ok", [("id_number", "11010519491231002x")]),
        ("老身份证 110105491231002", [("id_number", "110105491231002")]),
        # After an ID word a valid region and birth date are enough: the check
        # character may be wrong (a typo is still someone's ID).
        (
            "已核实您的身份证号110101199003071234，实名信息无误。",
            [("id_number", "110101199003071234")],
        ),
        ("麻烦确认一下身份证号：440305198512123456", [("id_number", "440305198512123456")]),
        ("證件號 440305198512123456", [("id_number", "440305198512123456")]),
        ("ID number: 110101199003071234", [("id_number", "110101199003071234")]),
        ("identity card 110101-19900307-1234", [("id_number", "110101-19900307-1234")]),
        # Street addresses, with or without the province.
        (
            "浙江省杭州市西湖区文三路90号3幢201室",
            [("address", "浙江省杭州市西湖区文三路90号3幢201室")],
        ),
        (
            "我的地址是浙江省杭州市西湖区文三路90号3幢201室，电话13812345678",
            [
                ("address", "浙江省杭州市西湖区文三路90号3幢201室"),
                ("phone", "13812345678"),
            ],
        ),
        ("寄到杭州市西湖区文三路90号", [("address", "杭州市西湖区文三路90号")]),
        ("寄到上海市浦东新区张江路100号", [("address", "上海市浦东新区张江路100号")]),
        ("送到人民路100号2单元301", [("address", "人民路100号2单元301")]),
        ("杭州市西湖区翠苑小区3幢201室", [("address", "杭州市西湖区翠苑小区3幢201室")]),
        ("张家村3组15号", [("address", "张家村3组15号")]),
        (
            "北京市朝阳区建国路88号SOHO现代城5号楼1203",
            [("address", "北京市朝阳区建国路88号SOHO现代城5号楼1203")],
        ),
        (
            "江苏省苏州市工业园区星湖街328号创意产业园10-501",
            [("address", "江苏省苏州市工业园区星湖街328号创意产业园10-501")],
        ),
        ("send to 12 Baker Street, Apt 4 please", [("address", "12 Baker Street, Apt 4")]),
        # A road's section, and traditional characters.
        ("寄到成都市武侯区人民南路四段27号", [("address", "成都市武侯区人民南路四段27号")]),
        ("收貨地址：深圳市南山區科苑路15號", [("address", "深圳市南山區科苑路15號")]),
        # Every digit spaced out.
        ("您的号码是1 3 9 8 8 7 7 6 6 5 5吗？", [("phone", "1 3 9 8 8 7 7 6 6 5 5")]),
        # A street ending in 道 after a district; a floor after a building.
        (
            "寄往厦门市思明区鹭江道8号国际银行大厦22楼",
            [("address", "厦门市思明区鹭江道8号国际银行大厦22楼")],
        ),
        (
            "四川省成都市武侯区天府大道北段1700号环球中心W3区2楼",
            [("address", "四川省成都市武侯区天府大道北段1700号环球中心W3区2楼")],
        ),
        # A county, a town and a village: an address without a house number.
        (
            "山东省临沂市兰陵县向城镇后屯村，帮您发了",
            [("address", "山东省临沂市兰陵县向城镇后屯村")],
        ),
        ("河南省周口市沈丘縣付井鎮王莊村三組", [("address", "河南省周口市沈丘縣付井鎮王莊村三組")]),
        # Chinese addresses written in English.
        (
            "Address updated to 5F, Block B, Tianan Cyber Park, Futian District, Shenzhen.",
            [("address", "5F, Block B, Tianan Cyber Park, Futian District, Shenzhen")],
        ),
        (
            "We'll deliver to Apt 702, Unit 3, Bldg 12, Vanke Park, Minhang District, Shanghai.",
            [("address", "Apt 702, Unit 3, Bldg 12, Vanke Park, Minhang District, Shanghai")],
        ),
    ],
)
def test_finds_buyer_data(text, expected):
    assert found(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        # Digit runs inside longer runs of digits or letters.
        "订单号 2023110512345678901",
        "SF1381234567890",
        "75312345678901",
        "快递单 YT13812345678",
        "123456789012345678",
        "1381234567",
        # Numbers right after an order or tracking word.
        "订单号：13812345678",
        "单号是 13812345678",
        "运单号13812345678",
        "快递单号为 13812345678",
        "物流单号: 13812345678",
        "order no. 13812345678",
        "Order #13812345678",
        "tracking number: 13812345678",
        "no.13812345678",
        "订单号 110105194912310011",
        # Already masked.
        "138****5678",
        "+86 138****5678",
        "0571-****1234",
        "110105********002X",
        "浙江省杭州市西湖区****",
        # Prices, decimals, dates, times, hotlines.
        "价格¥13812345678",
        "共13812345678.50元",
        "单价 99.50 元 2023-11-05 发货",
        "请在13:45前付款，共138元",
        "20231105 到货",
        "客服热线 400-820-8820",
        # An 18-digit run whose checksum, region or date is wrong.
        "110105194912310021",
        "991105194912310010",
        "110105194913310010",
        # An ID word does not make an impossible region or date an ID, nor an
        # order number one.
        "身份证号 991105194912310010",
        "身份证号 110105194913310010",
        "身份证和订单号 110101199003071234",
        # The shop's own return address.
        "退货地址：浙江省杭州市余杭区文一西路1888号 美丽小铺售后仓收",
        "退货请寄：广东省广州市白云区太和镇大源路18号 小美电商售后部收",
        "Please return to 12 Baker Street",
        "Returns go to our warehouse: After-sales Dept, No. 100 Jinke Road, Pudong, Shanghai.",
        # 道 without a district before it; a town or a district alone.
        "大家都知道3号发货",
        "这个小镇很美，包邮的城镇乡村都可以",
        "We ship from Futian District, Shenzhen.",
        # Place names without a street and number, and dates after a place.
        "新疆也包邮",
        "发往杭州",
        "浙江省杭州市西湖区的朋友都说好",
        "天猫商城3号发货",
        "京东商城3-5天到货",
        "我在万达广场3号门等你",
        "亲，这个商品3天内发货，买2件打9折，满99元包邮，记得5号之前下单哦",
        "The 3 Little Pigs",
        "",
    ],
)
def test_near_misses_are_not_buyer_data(text):
    assert find_pii(text) == []
    assert mask_text(text) == text


def test_offsets_are_into_the_original_text():
    text = "亲 电话：１３８ １２３４ ５６７８，地址 浙江省 杭州市 西湖区 文三路90号"
    [phone, address] = find_pii(text)
    assert text[phone.start : phone.end] == "１３８ １２３４ ５６７８"
    assert text[address.start : address.end] == "浙江省 杭州市 西湖区 文三路90号"


@pytest.mark.parametrize(
    ("value", "kind", "masked"),
    [
        ("13812345678", "phone", "138****5678"),
        ("138 1234 5678", "phone", "138****5678"),
        ("+86 138-1234-5678", "phone", "+86 138****5678"),
        ("１３８１２３４５６７８", "phone", "138****5678"),
        ("010-12345678", "phone", "010-****5678"),
        ("(0571)88881234", "phone", "0571-****1234"),
        ("12", "phone", "****"),
        ("11010519491231002X", "id_number", "110105********002X"),
        ("110105491231002", "id_number", "110105*****1002"),
        ("浙江省杭州市西湖区文三路90号3幢201室", "address", "浙江省杭州市西湖区****"),
        ("杭州市西湖区文三路90号", "address", "杭州市西湖区****"),
        ("人民路100号2单元301", "address", "****"),
        ("12 Baker Street, Apt 4", "address", "****"),
    ],
)
def test_mask(value, kind, masked):
    assert mask(value, kind) == masked


def test_mask_refuses_an_unknown_kind():
    with pytest.raises(ValueError):
        mask("x", "email")


def test_mask_text_masks_every_finding_and_is_idempotent():
    text = (
        "亲，我的订单2023110512345678901什么时候发货？电话13812345678，"
        "地址浙江省杭州市西湖区文三路90号3幢201室，身份证11010519491231002X"
    )
    masked = mask_text(text)
    assert masked == (
        "亲，我的订单2023110512345678901什么时候发货？电话138****5678，"
        "地址浙江省杭州市西湖区****，身份证110105********002X"
    )
    assert mask_text(masked) == masked
    assert find_pii(masked) == []


def test_mask_text_masks_an_id_number_an_id_word_introduces():
    text = "麻烦确认一下身份证号：440305198512123456，海关清关要用。"
    assert mask_text(text) == "麻烦确认一下身份证号：440305********3456，海关清关要用。"
    assert mask_text("编号 440305198512123456") == "编号 440305198512123456"


def test_mask_text_masks_the_senders_own_number_too():
    # The guard's privacy finding skips a number the sender gives as their own
    # (off_platform flags the message); staff still see it masked.
    assert mask_text("直接打我电话吧 139 0012 7788") == "直接打我电话吧 139****7788"


def test_mask_text_masks_digits_written_with_spaces():
    assert mask_text("Is this your number 1 3 8 0 0 1 3 8 0 0 0 ?") == (
        "Is this your number 138****8000 ?"
    )


def test_mask_text_returns_the_same_object_when_nothing_is_found():
    text = "您好，请问这款连衣裙还有货吗？我想要红色的中号，什么时候可以发货呢？"
    assert mask_text(text) is text


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("11010519491231002X", True),
        ("11010519491231002x", True),
        ("110105194912310011", True),
        ("440304199001010011", True),
        ("11010519491231002Y", False),  # not a check character
        ("110105194912310021", False),  # wrong checksum
        ("110105194902300017", False),  # 30 February
        ("990105194912310010", False),  # no such province
        ("110105180012310016", False),  # born before 1900
        ("110105491231002", True),  # old 15 digits
        ("110105491331002", False),  # month 13
        ("1101054912310", False),
        ("110105-19491231-002X", True),
    ],
)
def test_id_numbers_are_validated(value, valid):
    assert privacy.valid_id_number(value) is valid


def test_id_numbers_without_the_checksum():
    assert privacy.valid_id_number("110105194912310021", checksum=False)
    assert not privacy.valid_id_number("110105194913310021", checksum=False)  # month 13
    assert not privacy.valid_id_number("990105194912310021", checksum=False)
    assert not privacy.valid_id_number("11010519491231002Y", checksum=False)


@pytest.mark.parametrize(
    "text",
    [
        "直接打我电话吧 139 0012 7788，晚上也可以",
        "有什么问题直接打我私人手机，一三八零零一三八零零零",
        "Call me on my cell, 138-0013-8000, easier than typing",
        "直接支付宝转我 18800001111 就行，不用拍了",
        "Message me on WhatsApp at +86 139 0000 1234 and we can sort it out directly.",
        "这里说话不方便，您打这个电话 138 0013 8000 找我",
        "薇信：幺三八幺二三四五六七八，备注淘宝买家。",
    ],
)
def test_the_guard_skips_the_senders_own_number(text):
    from kefu.compliance.guard.defaults import default_specs
    from kefu.compliance.guard.engine import Guard

    [spec] = [s for s in default_specs() if s.code == "privacy_phone"]
    assert find_pii(text)  # still found and masked for staff
    assert Guard([spec]).screen(text).findings == []


@pytest.mark.parametrize(
    "text",
    [
        "您的手机号 139 1234 5678 对吗",
        "your phone 13912345678 is on the order",
        "加我微信，您的手机号13912345678对吗",
        "我帮您查了，买家电话 13812345678",
        "快递员电话13812345678，我让他联系您",
    ],
)
def test_the_guard_flags_other_peoples_numbers(text):
    from kefu.compliance.guard.defaults import default_specs
    from kefu.compliance.guard.engine import Guard

    [spec] = [s for s in default_specs() if s.code == "privacy_phone"]
    assert [f.rule for f in Guard([spec]).screen(text).findings] == ["privacy_phone"]


def test_id_checksum_follows_gb_11643():
    assert privacy.id_checksum("11010519491231002") == "X"
    assert privacy.id_checksum("44030419900101001") == "1"


def test_every_finding_contains_a_trigger_of_its_kind():
    """The guard runs `find_pii` only on texts its triggers match."""
    import re

    texts = [
        "电话 138 1234 5678；+86 138-1234-5678；１３８１２３４５６７８；(0571)88881234",
        "0571-8888-1234；010-12345678；身份证 110105 19491231 002X；老身份证 110105491231002",
        "成都市武侯区人民南路四段27号；深圳市南山區科苑路15號；翠苑小区3-201",
        "send to 12 Baker Street, Apt 4",
        "号码 1 3 9 8 8 7 7 6 6 5 5；兰陵县向城镇后屯村；鹭江道8号国际银行大厦22楼",
        "Group 4, Liujia Village, Xinzhou Town, Huangpi District, Wuhan",
    ]
    for text in texts:
        for pii in find_pii(text):
            value = text[pii.start : pii.end]
            assert any(re.search(t, value) for t in privacy.TRIGGERS[pii.kind]), value


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        # Round 8: spelt English digits, Taiwan mobiles and IDs, 4-4-4-4-2 IDs.
        ("call you at one-five-nine, one-two-three-four, five-six-seven-eight", "phone"),
        ("收件人陳小姐 0987-654-321", "phone"),
        ("身分證號 B234567891 已登記", "id_number"),
        ("Your ID: 3101 1519 9007 0834 27", "id_number"),
        ("高雄市前鎮區中山二路5巷12號3樓", "address"),
    ],
)
def test_round8_forms(text: str, kind: str) -> None:
    assert [pii.kind for pii in find_pii(text)] == [kind]


def test_round8_near_misses_stay() -> None:
    assert find_pii("one two three, we count to ten together") == []
    assert find_pii("型号 A123456789 现货") == []

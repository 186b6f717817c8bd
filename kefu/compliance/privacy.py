"""Buyers' phone numbers, ID numbers and street addresses in free text: where
they are (`find_pii`) and how staff see them (`mask_text`: 138****5678).

Pure functions, no database. `mask_text` runs on every customer message shown
to an agent, so a text without a digit returns after one cheap search; the
expensive expressions only run on texts that have digits.

An 18-character ID number must pass the GB 11643 checksum, unless an ID
word (身份证, 证件号, ID number…) comes shortly before it: then a valid
region and birth date are enough.

What is deliberately *not* buyer data: a digit run inside a longer run of
digits or letters (order and tracking numbers), a number right after
订单号 / 运单号 / order no. / tracking, values already masked (138****5678),
prices and decimals, and place names without a street and number.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

PHONE = "phone"
ID_NUMBER = "id_number"
ADDRESS = "address"
KINDS = (PHONE, ID_NUMBER, ADDRESS)

MASK = "****"


@dataclass(frozen=True, slots=True)
class Pii:
    kind: str
    start: int
    end: int


# --- digit runs: phones and ID numbers ---------------------------------------------

# A match may not touch another digit, a Latin letter or a mask character:
# "SF1381234567890" and "138****5678" hold no phone number.
_ALNUM = r"0-9A-Za-z\uff10-\uff19\uff21-\uff3a\uff41-\uff5a"
# "A1-13912345678" is a model or batch code, not a phone.
_BEFORE = rf"(?<![{_ALNUM}*＊¥￥$])(?<!\d[.．])(?<!\d[\-－/_])"
_AFTER = rf"(?![{_ALNUM}*＊])(?![.．]\d)"
# Between groups of digits: spaces, dashes, dots (186.1234.5678).
_SEP = r"[ \u00a0\u3000\-－.．—–·]?"

_DIGITS = re.compile(
    # The leading class lets the engine skip quickly to where a number can start.
    r"(?=[0-9+(（])"
    + _BEFORE
    + r"(?:"
    # Mobile: 1[3-9]x xxxx xxxx, optionally after +86 / 0086 / (+86) / "86 ".
    + r"(?P<mobile>(?:(?:[+＋]|00)86"
    + _SEP
    + r"|[(（][+＋]?86[)）]"
    + _SEP
    + r"|86[ \-])?"
    + r"1[3-9]\d"
    + _SEP
    + r"\d{4}"
    + _SEP
    + r"\d{4}"
    # Digits spaced out, evenly or not: 1 3 9 8 8 7 7 6 6 5 5, 13 5 6 7 8 9 0 1 2 3 4.
    + r"|1[ \u3000]?[3-9](?:[ \u3000]?\d){9}"
    # Taiwan: 09xx-xxx-xxx (ten digits; no mainland landline is that short).
    + r"|09\d{2}[ \-]?\d{3}[ \-]?\d{3})"
    # Landline with its area code: 010 and 02x have 8-digit numbers, the rest 7-8.
    + r"|(?P<landline>(?:[(（]0\d{2,3}[)）]"
    + _SEP
    + r"(?:\d{7,8}|\d{3,4}"
    + _SEP
    + r"\d{4})"
    + r"|0(?:10|2\d)"
    + _SEP
    + r"\d{4}"
    + _SEP
    + r"\d{4}"
    + r"|0[3-9]\d{2}"
    + _SEP
    + r"\d{3,4}"
    + _SEP
    + r"\d{4}))"
    # Resident ID: 18 characters (last may be X), or the old 15 digits.
    # Written in groups: 6-8-4 or 6-4-4-4, with spaces or dashes.
    + r"|(?P<id18>\d{6}[ \-]?\d{4}[ \-]?\d{4}[ \-]?\d{3}[\dXx]"
    + r"|\d{4}[ \-]\d{4}[ \-]\d{4}[ \-]\d{4}[ \-]\d[\dXx])"
    + r"|(?P<id15>\d{15})"
    + r")"
    + _AFTER
)

# A number that follows one of these (and at most a little filler) is the
# shop's order or tracking number, not the buyer's phone.
_ORDER_CONTEXT = re.compile(
    r"(?:订单|单号|运单|快递单|物流单|包裹|order|tracking|waybill|parcel"
    r"|(?<!phone )(?<!mobile )(?<!tel )(?<!cell )(?<!contact )\bno\.?|\#)"
    r"\s*(?:号码|编号|号|id|number|num\.?|no\.?|\#)?\s*(?:是|为|:|：)?\s*$",
    re.IGNORECASE,
)
_CONTEXT_CHARS = 24
# An ID word shortly before a number (身份证号：…, ID number …): the number is
# an ID even when its check character is wrong.
_ID_CONTEXT = re.compile(
    r"身份证|身份證|身分证|身分證|证件号|證件號|证件號|證件号|证件编号|證件編號|居民身份|实名信息"
    r"|\bid\s*(?:card|number|no\b|no\.|#|[:：])|\bidentity\s*(?:card|number|document)"
    r"|\bidentification\s*(?:card|number)|\bnational\s+id\b|\bresident\s+id\b",
    re.IGNORECASE,
)
_CONTEXT_WORDS = re.compile(
    r"订单|单号|运单|快递单|物流单|包裹|order|tracking|waybill|parcel|no|#", re.I
)
# Full-width digits, plus sign and X, and digits spelt in Chinese
# (一三八…, 幺 for one), read as ASCII: same length, so same offsets.
_FULLWIDTH = str.maketrans("０１２３４５６７８９＋Ｘｘ", "0123456789+Xx")
_HAS_FULLWIDTH = re.compile("[０-９]")
# Capital numerals (壹贰叁…, also traditional 貳參陸) spell digits too.
_CN_DIGITS = str.maketrans(
    "零〇一幺二三四五六七八九壹贰貳叁參参肆伍陆陸柒捌玖", "0011234567891223334566789"
)
# Seven spelt digits in a row (separators allowed) before they are read as a
# number: "第一" or "一二三" stay words.
_CN_DIGIT = "[零〇一幺二三四五六七八九壹贰貳叁參参肆伍陆陸柒捌玖]"
_HAS_CN_RUN = re.compile(rf"{_CN_DIGIT}(?:[ \u3000\-－]?{_CN_DIGIT}){{6,}}")

# Digits spelt in English ("one-three-eight, five-five-six-six, …"): a run of
# eleven read as a mobile number.
_EN_DIGITS = {"zero": "0", "oh": "0", "one": "1", "two": "2", "three": "3", "four": "4"}
_EN_DIGITS |= {"five": "5", "six": "6", "seven": "7", "eight": "8", "nine": "9"}
_EN_DIGIT = r"\b(?i:zero|one|two|three|four|five|six|seven|eight|nine)"
_EN_RUN = re.compile(
    r"\b(?i:zero|oh|one|two|three|four|five|six|seven|eight|nine)"
    r"(?:[\s,\-]{1,3}(?i:zero|oh|one|two|three|four|five|six|seven|eight|nine)\b){10,}"
)
# Taiwan ID (A123456789), read as one only after an ID word.
# Searched from the digits (fast), the letter checked after.
_TW_ID = re.compile(r"[12]\d{8}(?![0-9A-Za-z])")

# Province-level codes that open a resident ID (GB 2260).
_PROVINCE_CODES = frozenset(
    "11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 "
    "50 51 52 53 54 61 62 63 64 65 71 81 82".split()
)
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_DAYS_IN_MONTH = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _valid_date(year: int, month: int, day: int) -> bool:
    if not 1 <= month <= 12 or not 1 <= day <= _DAYS_IN_MONTH[month - 1]:
        return False
    leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    return not (month == 2 and day == 29 and not leap)


def id_checksum(first17: str) -> str:
    """The GB 11643 check character of an ID number's first 17 digits."""
    total = sum(int(c) * w for c, w in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


def valid_id_number(value: str, *, checksum: bool = True) -> bool:
    """An 18-character ID with a valid region, birth date and checksum, or a
    15-digit old ID with a valid region and birth date. `checksum=False`
    skips the check character (a number an ID word introduces: a typo in the
    last digit is still someone's ID)."""
    value = value.replace(" ", "").replace("-", "").upper()
    if len(value) == 18:
        if not value[:17].isdigit() or value[:2] not in _PROVINCE_CODES:
            return False
        year, month, day = int(value[6:10]), int(value[10:12]), int(value[12:14])
        if not 1900 <= year <= 2099 or not _valid_date(year, month, day):
            return False
        if not checksum:
            return value[17].isdigit() or value[17] == "X"
        return id_checksum(value[:17]) == value[17]
    if len(value) == 15 and value.isdigit() and value[:2] in _PROVINCE_CODES:
        return _valid_date(1900 + int(value[6:8]), int(value[8:10]), int(value[10:12]))
    return False


# --- street addresses -----------------------------------------------------------------

_PROVINCE_SUFFIXES = "省|市|壮族自治区|回族自治区|维吾尔自治区|自治区|特别行政区"
_PROVINCES = (
    "北京|天津|上海|重庆|河北|山西|辽宁|吉林|黑龙江|江苏|浙江|安徽|福建|江西|山东|河南|湖北"
    "|湖南|广东|海南|四川|贵州|云南|陕西|甘肃|青海|台湾|内蒙古|广西|西藏|宁夏|新疆|香港|澳门"
)
# Chinese characters that can be part of a place name: not the little words
# around one ("我的地址是…", "寄到…"), so a match starts at the place itself.
_NAME = "[^\\W\\d_A-Za-z的是在到往寄送住址我你您他她请帮给与及或改为]"
_CN_NUMBER = "[一二三四五六七八九十百零〇两]"
# Simplified and traditional forms (號, 樓, 棟, 單元, 層).
_UNIT = "(?:号楼|號樓|号院|號院|号|號|栋|棟|幢|座|单元|單元|楼|樓|层|層|室|户|戶|组|組|弄|巷|期)"
_NUMBER_BLOCK = (
    rf"\s*\d+(?:[-－]\d+)*\s*{_UNIT}"
    rf"(?:\s*(?:\d+|{_CN_NUMBER}+)(?:[-－]\d+)*\s*{_UNIT})*"
    rf"(?:\s*\d{{1,5}}(?!\d))?"
)
_STREET_WORDS_BUT_DAO = "大街|大道|路|街|巷|胡同|弄|村"
_STREET_WORDS = _STREET_WORDS_BUT_DAO + "|道"
# A long road's section: 人民南路四段27号.
_SECTION = rf"(?:(?:\d+|{_CN_NUMBER}+|[东南西北中])段)?"
_ESTATE_WORDS = "小区|花园|公寓|大厦|广场|家园|新村|公馆|大楼|中心|苑|府|城|园"
_ESTATE = rf"(?:{_NAME}|[A-Za-z]){{2,12}}?(?:{_ESTATE_WORDS})"
# After an estate name a bare "3号" is as likely a date (天猫商城3号发货), so
# its number needs a building unit, or the 3-201 form of building and room.
_ESTATE_BLOCK = (
    rf"\s*(?:\d+\s*(?:号楼|号院|栋|幢|座|单元|期)(?:{_NUMBER_BLOCK})?(?:\s*\d{{1,5}}(?!\d))?"
    r"|\d{1,3}[-－](?:\d{1,2}[-－])?\d{3,4}(?!\d)"
    # 环球中心W3区2楼, 国际银行大厦22楼, 5F: a floor, after a block or zone.
    r"|(?:[A-Za-z]?\d{1,3}\s*(?:区|區|座|栋|棟)\s*)?\d{1,3}\s*(?:楼|樓|层|層|F|f)(?![A-Za-z])"
    r"(?:\s*\d{1,5}(?:室|号|號)?)?)"
)
# The province and up to two city-level names that may open an address.
_REGION_PREFIX = (
    rf"(?:(?:{_PROVINCES})(?:{_PROVINCE_SUFFIXES})?[ \u3000]?)?"
    rf"(?:{_NAME}{{1,6}}?(?:市|自治州|地区|盟)[ \u3000]?){{0,2}}"
)
_CHINESE_ADDRESS = (
    rf"(?=(?:{_NAME}|[A-Za-z]))"
    rf"(?P<keep>{_REGION_PREFIX}"
    rf"(?:{_NAME}{{1,6}}?(?:新区|区|區|县|縣|旗)[ \u3000]?)?)"
    rf"(?:{_NAME}{{1,6}}?(?:镇|鎮|乡|鄉|街道)[ \u3000]?)?"
    rf"(?:{_NAME}{{2,12}}?(?:{_STREET_WORDS}){_SECTION}(?:{_NUMBER_BLOCK})"
    rf"(?:\s*{_ESTATE}(?:{_ESTATE_BLOCK})?)?"
    rf"|{_ESTATE}{_ESTATE_BLOCK})"
)
_ENGLISH_ADDRESS = (
    r"\b\d{1,5}[A-Za-z]?\s+(?:[A-Z][A-Za-z'.-]*\s+){1,4}"
    r"(?:Street|St|Road|Rd|Avenue|Ave|Lane|Ln|Boulevard|Blvd|Drive|Dr|Way|Court|Ct|Place|Pl)\b\.?"
    r"(?:,?\s*(?:Apt|Apartment|Suite|Unit|Flat|Room|\#)\.?\s*[0-9A-Za-z-]+)?"
)
# 兰陵县向城镇后屯村, 沈丘縣付井鎮王莊村三組: a county, a town and a village are an
# address without any house number.
_VILLAGE_ADDRESS = (
    rf"(?P<keep>{_REGION_PREFIX}"
    rf"{_NAME}{{1,6}}?(?:县|縣|区|區|旗)[ \u3000]?)"
    rf"{_NAME}{{1,6}}?(?:镇|鎮|乡|鄉)[ \u3000]?"
    rf"{_NAME}{{1,6}}?(?:村|屯|庄|莊|嘎查)(?:村)?"
    rf"(?:\s*(?:\d+|{_CN_NUMBER}+)\s*(?:组|組|队|隊|社))?(?:\s*\d+\s*(?:号|號))?"
)
_VILLAGE = re.compile(_VILLAGE_ADDRESS)
_VILLAGE_CORE = re.compile(rf"(?:县|縣|区|區|旗)[ \u3000]?{_NAME}{{1,6}}?(?:镇|鎮|乡|鄉)")
# Chinese addresses written in English: "5F, Block B, Tianan Cyber Park, Futian
# District, Shenzhen"; "Group 4, Liujia Village, Xinzhou Town, Huangpi District".
_EN_PART = r"[A-Z][A-Za-z'’-]*(?:\s+[A-Z][A-Za-z'’-]*){0,4}"
_EN_NUMBERED = (
    r"(?:\d{1,3}\s*/?\s*F|Floor\s+\d{1,3}|(?:Apt|Apartment|Room|Rm|Unit|Bldg|Building|Block|Tower|Group"
    r"|No|Flat|Suite)\.?\s*[0-9A-Z][0-9A-Za-z-]*|\d{1,5}[A-Za-z]?\s+" + _EN_PART + r")"
)
_ENGLISH_CN_ADDRESS = (
    rf"(?:(?:{_EN_NUMBERED}|{_EN_PART}),\s*){{1,6}}?"
    rf"{_EN_PART}\s+(?:District|County|Town|Township|Village|New Area)\b"
    rf"(?:,\s*(?:{_EN_PART}\s+)?(?:District|County|Town|Township|Village))*"
    rf"(?:,\s*[A-Z][a-z]+(?:\s+(?:City|Province))?(?![A-Za-z]))?"
)
_ENGLISH_CN = re.compile(_ENGLISH_CN_ADDRESS)
_ENGLISH_CN_HINT = re.compile(r"\b(?:District|County|Town|Township|Village)\b")
_CHINESE = re.compile(_CHINESE_ADDRESS)
_ENGLISH = re.compile(_ENGLISH_ADDRESS)
# Where a Chinese address must be: a street or estate word, then a number.
# The full expression only runs in a window around each of these.
_CHINESE_CORE = re.compile(rf"(?:{_STREET_WORDS}|{_ESTATE_WORDS}){_SECTION}\s*\d")
# An address right after these is the shop's own (where returns go), not a buyer's.
_SHOP_ADDRESS_CONTEXT = re.compile(
    r"(?:(?:退货|退回|寄回|退换货?|换货|售后|返厂|return)\s*(?:地址|address|请寄|寄)?\s*"
    r"(?:到|往|至|to|回)?"
    # "换货请寄到我们仓库：", "我们的售后仓地址是", "本店门店在"
    r"|(?:我们|我司|本店|店铺|公司|商家|our)\s*(?:的)?\s*"
    r"(?:仓库|售后仓|售后部|售后|发货仓|仓|门店|实体店|店|公司|办公室|warehouse|store|office)\s*"
    r"(?:地址|address)?\s*(?:在|is)?)"
    r"\s*[:：是为]?\s*$",
    re.IGNORECASE,
)
# Earlier in the same sentence: the address is where returns go, the shop's own
# ("Returns go to our warehouse: After-sales Dept, No. 100 Jinke Road").
_SHOP_SENTENCE = re.compile(
    r"退货|退回(?!来)|寄回|退换|换货|返厂|售后(?:部|仓|地址)|\breturns?\b|\bsend (?:it|them) back\b"
    r"|\bour\s+(?:warehouse|store|office|shop|after-sales)|(?:我们|本店|我司)\s*(?:的)?\s*(?:仓库|售后|门店|公司)",
    re.IGNORECASE,
)
_BUYER_SENTENCE = re.compile(
    r"您(?!好)|你的|收货|收件|\byour\b|\bbuyer|\bdeliver(?:y|ed)? to\b|\bship(?:ping)? to\b",
    re.IGNORECASE,
)
_SENTENCE_BREAK = re.compile(r"[。！？!?\n]|(?<![Nn]o)(?<!St)(?<!Rd)(?<!Apt)(?<!Rm)\.\s")
_SHOP_SENTENCE_CHARS = 80
_NAME_RUN = re.compile(rf"(?:{_NAME}|[A-Za-z])(?:{_NAME}|[A-Za-z]|[ \u3000])*")
_ENGLISH_HINT = re.compile(r"\d[A-Za-z]?\s+[A-Z][a-z]")
_WINDOW_BEFORE = 40
_WINDOW_AFTER = 60

# The one cheap search a text without any of these passes (镇/乡: a village
# address may have no number at all).
_HAS_DIGIT = re.compile(rf"\d|{_CN_DIGIT}{{3}}|[镇鎮乡鄉]")

# Cheap patterns (RE2-compatible) that every finding of a kind contains, for
# callers that prefilter before calling `find_pii` (the guard's detectors).
_D = "[0-9０-９]"
_S = "[ \u00a0\u3000\\-－.．—–·]?"
TRIGGERS: dict[str, tuple[str, ...]] = {
    PHONE: (
        rf"[1１][3-9３-９]{_D}{_S}{_D}{{4}}{_S}{_D}{{4}}",
        rf"[0０]{_D}{{2,3}}[)）]?{_S}{_D}{{3,4}}{_S}{_D}{{4}}",
        rf"[一幺壹]{_S}[三四五六七八九叁參参肆伍陆陸柒捌玖](?:{_S}{_CN_DIGIT}){{9}}",
        rf"[0０]9{_D}{{2}}[ \-]?{_D}{{3}}[ \-]?{_D}{{3}}",
        rf"{_EN_DIGIT}[\s,\-]{{1,3}}{_EN_DIGIT}[\s,\-]{{1,3}}{_EN_DIGIT}\b",
        "[1１][ \u3000]?[3-9３-９](?:[ \u3000]?" + _D + "){9}",
    ),
    ID_NUMBER: (
        rf"{_D}{{6}}[ \\-]?{_D}{{4}}[ \\-]?{_D}{{4}}",
        rf"{_D}{{15}}",
        rf"{_D}{{4}}[ \\-]{_D}{{4}}[ \\-]{_D}{{4}}[ \\-]{_D}{{4}}",
        rf"\b[A-Za-z][12]{_D}{{8}}\b",
    ),
    ADDRESS: (
        rf"(?:{_STREET_WORDS}|{_ESTATE_WORDS}){_SECTION}\s*\d",
        r"\d[A-Za-z]?\s+[A-Z][a-z]",
        "(?:县|縣|区|區|旗)[ \u3000]?[^\\s\\d，。,.]{1,6}?(?:镇|鎮|乡|鄉)",
        r"\b(?:District|County|Town|Township|Village)\b",
    ),
}


# --- finding ----------------------------------------------------------------------


def _order_number(text: str, start: int) -> bool:
    low = max(0, start - _CONTEXT_CHARS)
    if _CONTEXT_WORDS.search(text, low, start) is None:
        return False
    return _ORDER_CONTEXT.search(text, low, start) is not None


_MOBILE_STARTS = {f"1{d}" for d in "3456789"}


def _digit_hits(text: str) -> list[Pii]:
    hits = []
    for match in _DIGITS.finditer(text):
        start, end = match.span()
        if match.lastgroup in ("id18", "id15"):
            if not valid_id_number(match.group()) and not (
                _id_context(text, start) and valid_id_number(match.group(), checksum=False)
            ):
                continue
            kind = ID_NUMBER
        else:
            kind = PHONE
        if _order_number(text, start):
            continue
        if match.lastgroup == "landline" and _shop_address(text, start):
            continue  # the shop's own phone, in its return address
        hits.append(Pii(kind, start, end))
    return hits


def _id_context(text: str, start: int) -> bool:
    return _ID_CONTEXT.search(text, max(0, start - _CONTEXT_CHARS), start) is not None


def _shop_address(text: str, start: int) -> bool:
    if _SHOP_ADDRESS_CONTEXT.search(text, max(0, start - _CONTEXT_CHARS), start) is not None:
        return True
    low = max(0, start - _SHOP_SENTENCE_CHARS)
    for stop in _SENTENCE_BREAK.finditer(text, low, start):
        low = stop.end()
    before = text[low:start]
    return _SHOP_SENTENCE.search(before) is not None and _BUYER_SENTENCE.search(before) is None


def _address(start: int, end: int, text: str) -> Pii:
    # Trailing spaces belong to the sentence, not the address.
    while end > start and text[end - 1].isspace():
        end -= 1
    return Pii(ADDRESS, start, end)


def _chinese_hits(
    text: str,
    cores: re.Pattern[str],
    address: re.Pattern[str],
    hits: list[Pii],
    covered: int,
    *,
    past_core: bool,
) -> int:
    """Chinese addresses of one form around each of its cores (a street or
    estate word before a number; a county before a town), not starting before
    `covered`; appends them to `hits` and returns the new `covered`. The
    address starts in the run of name characters that ends with the core: its
    positions are tried left to right, the first match wins (with `past_core`,
    only a match that goes past the core's start)."""
    for core in cores.finditer(text):
        keyword = core.start()
        if keyword < covered:
            continue
        run_start = keyword
        for run in _NAME_RUN.finditer(text, max(covered, keyword - _WINDOW_BEFORE), keyword + 1):
            run_start = run.start()
        high = min(len(text), core.end() + _WINDOW_AFTER)
        for position in range(run_start, keyword):
            match = address.match(text, position, high)
            if match is None or (past_core and match.end() <= keyword):
                continue
            if past_core and _bare_dao(match):
                break
            if not _shop_address(text, match.start()):
                hits.append(_address(match.start(), match.end(), text))
            covered = match.end()
            break
    return covered


def _address_hits(text: str) -> list[Pii]:
    hits: list[Pii] = []
    covered = _chinese_hits(text, _CHINESE_CORE, _CHINESE, hits, 0, past_core=True)
    _chinese_hits(text, _VILLAGE_CORE, _VILLAGE, hits, covered, past_core=False)
    english = []
    if _ENGLISH_HINT.search(text) is not None:
        english = [
            _address(m.start(), m.end(), text)
            for m in _ENGLISH.finditer(text)
            if not _shop_address(text, m.start())
        ]
    if _ENGLISH_CN_HINT.search(text) is not None:
        english += [
            _address(m.start(), m.end(), text)
            for m in _ENGLISH_CN.finditer(text)
            if any(c.isdigit() for c in m.group()) and not _shop_address(text, m.start())
        ]
    hits.extend(english)
    return hits


# "都知道3号发货": 道 ends a street name only after a district or city.
_DAO_STREET = re.compile(rf"(?:{_NAME}|[A-Za-z]){{2,12}}?道{_SECTION}\s*\d")
_OTHER_STREET = re.compile(rf"(?:{_STREET_WORDS_BUT_DAO})(?:\S{{0,3}}段)?\s*\d|(?:{_ESTATE_WORDS})")


def _bare_dao(match: re.Match) -> bool:
    value = match.group()
    return (
        not match.group("keep")
        and _DAO_STREET.search(value) is not None
        and _OTHER_STREET.search(value) is None
    )


def find_pii(text: str) -> list[Pii]:
    """Phone numbers, ID numbers and street addresses in `text`, in order, as
    character offsets into `text` itself; never two overlapping."""
    if not text or (_HAS_DIGIT.search(text) is None and not _spelt_phone(text)):
        return []
    scan = text.translate(_FULLWIDTH) if _HAS_FULLWIDTH.search(text) else text
    if _HAS_CN_RUN.search(scan) is not None:
        scan = _HAS_CN_RUN.sub(lambda m: m.group().translate(_CN_DIGITS), scan)
    hits = _digit_hits(scan) + _spelt_hits(text, scan)
    hits.extend(_address_hits(text))
    if len(hits) > 1:
        hits.sort(key=lambda p: (p.start, p.start - p.end))
        kept: list[Pii] = []
        for hit in hits:
            if kept and hit.start < kept[-1].end:
                continue
            kept.append(hit)
        hits = kept
    return hits


def _spelt_phone(text: str) -> bool:
    # Eleven spelt digits need ten separators: a cheap count first.
    separators = text.count(" ") + text.count("-") + text.count(",")
    return separators >= 10 and _EN_RUN.search(text) is not None


def _spelt_hits(text: str, scan: str) -> list[Pii]:
    """Taiwan IDs (A123456789) after an ID word; mobiles spelt in English."""
    hits = []
    for match in _TW_ID.finditer(scan):
        start = match.start() - 1
        if (
            start >= 0
            and scan[start].isascii()
            and scan[start].isalpha()
            and not (start > 0 and scan[start - 1].isascii() and scan[start - 1].isalnum())
            and _id_context(scan, start)
        ):
            hits.append(Pii(ID_NUMBER, start, match.end()))
    if not _spelt_phone(text):
        return hits
    for match in _EN_RUN.finditer(text):
        words = re.findall(r"[a-z]+", match.group().lower())
        if len(words) == 11 and "".join(_EN_DIGITS[w] for w in words[:3])[:2] in _MOBILE_STARTS:
            hits.append(Pii(PHONE, match.start(), match.end()))
    return hits


# --- masking ----------------------------------------------------------------------


def _mask_phone(value: str) -> str:
    digits = "".join(c for c in value if c.isdigit())
    if not digits:  # spelt out in words
        return MASK
    if len(digits) == 10 and digits.startswith("09"):  # Taiwan mobile
        return f"{digits[:4]}{MASK}{digits[-3:]}"
    if digits.startswith("0") and not digits.startswith("0086"):
        # Landline: keep the area code and the last four digits.
        area = 3 if digits[1:2] in ("1", "2") else 4
        return f"{digits[:area]}-{MASK}{digits[-4:]}"
    if len(digits) > 11 and digits[-11] == "1":
        prefix = "+86 " if digits[:-11].endswith("86") else ""
        digits = digits[-11:]
        return f"{prefix}{digits[:3]}{MASK}{digits[-4:]}"
    if len(digits) >= 8:
        return f"{digits[:3]}{MASK}{digits[-4:]}"
    return MASK


def _mask_id(value: str) -> str:
    compact = value.replace(" ", "").replace("-", "")
    if len(compact) <= 10:
        return MASK
    return compact[:6] + "*" * (len(compact) - 10) + compact[-4:]


def _mask_address(value: str) -> str:
    match = _CHINESE.match(value.strip()) or _VILLAGE.match(value.strip())
    keep = match.group("keep") if match is not None else ""
    return f"{keep}{MASK}"


def mask(value: str, kind: str) -> str:
    """A single value as staff see it: 138****5678, 110101********123X,
    浙江省杭州市西湖区****."""
    value = value.translate(_FULLWIDTH)
    if kind in (PHONE, ID_NUMBER):
        value = value.translate(_CN_DIGITS)
    if kind == PHONE:
        return _mask_phone(value)
    if kind == ID_NUMBER:
        return _mask_id(value)
    if kind == ADDRESS:
        return _mask_address(value)
    raise ValueError(f"unknown kind of personal data: {kind!r}")


def mask_text(text: str) -> str:
    """`text` with every phone number, ID number and street address masked;
    `text` itself (the same object) when there is none."""
    hits = find_pii(text)
    if not hits:
        return text
    parts = []
    position = 0
    for hit in hits:
        parts.append(text[position : hit.start])
        parts.append(mask(text[hit.start : hit.end], hit.kind))
        position = hit.end
    parts.append(text[position:])
    return "".join(parts)


def has_pii(text: str) -> bool:
    return bool(find_pii(text))

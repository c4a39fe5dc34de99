"""One-line Chinese addresses: split them into province / city / district / detail and
check the three against China's administrative divisions (``orders/data/``).

The division data is read once, on first use. Matching is longest-prefix lookup in
dicts, level by level, so a parse costs a few dozen dict lookups whatever its length.
"""

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

DIVISIONS_FILE = Path(__file__).resolve().parent / "data" / "divisions.json"

# What people put between the parts: spaces (also full-width), commas, dashes, slashes.
SEPARATORS = " \t\r\n\u3000,，、;；:：/|-－—_"
# A division name ends in one of these; a short name followed by one spells some other
# division's full name (朝阳 + 区 is 朝阳区, not 朝阳市).
SUFFIX_CHARS = frozenset("省市区县州盟旗")
# A short name opening an address and followed by one of these is a street or a place:
# 中山路, 中山大道, 深圳湾.
STREET_CHARS = frozenset("路街道巷弄里村镇乡门桥号大湾站")
# Names the data and the marketplaces use for a municipality's city level.
MUNICIPAL_CITY_ALIASES = frozenset({"市辖区", "县"})

_POSTAL_CODE = re.compile(
    r"[(（\[【]\s*(?:邮编|邮政编码)?\s*[:：]?\s*([0-9０-９]{6})\s*[)）\]】]"
    r"|(?:邮编|邮政编码)\s*[:：]?\s*([0-9０-９]{6})(?![0-9０-９])"
    r"|[\s,，]([0-9０-９]{6})\s*$"
)
_ASCII_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")


@dataclass(frozen=True)
class ParsedAddress:
    """An address split into official division names; a part not found is ""."""

    province: str = ""
    city: str = ""
    district: str = ""
    detail: str = ""
    postal_code: str = ""


class _Division:
    __slots__ = ("code", "name", "parent", "children", "grandchildren", "municipal")

    def __init__(self, code, name, parent=None):
        self.code = code
        self.name = name
        self.parent = parent
        self.children = _Names()
        # Provinces only: every district of the province, to find a district's city.
        self.grandchildren = _Names()
        # Municipalities only: their one city, named like the municipality (北京市).
        self.municipal = None

    def __repr__(self):
        return f"<{self.code} {self.name}>"


class _Match(NamedTuple):
    divisions: list
    end: int
    short: bool


class _Names:
    """The full and short names of a set of divisions, for exact and prefix lookup."""

    __slots__ = ("full", "short", "lengths")

    def __init__(self):
        self.full = {}
        self.short = {}
        self.lengths = ()

    def __bool__(self):
        return bool(self.full)

    def add(self, division, shorts):
        self.full.setdefault(division.name, []).append(division)
        for name in shorts:
            self.short.setdefault(name, []).append(division)
        for name in (division.name, *shorts):
            if len(name) not in self.lengths:
                self.lengths = tuple(sorted({*self.lengths, len(name)}, reverse=True))

    def get(self, name):
        return self.full.get(name) or self.short.get(name) or []

    def match(self, text, pos, *, shorts=True):
        for length in self.lengths:
            key = text[pos : pos + length]
            if len(key) < length:
                continue
            if key in self.full:
                return _Match(self.full[key], pos + length, False)
            if shorts and key in self.short:
                return _Match(self.short[key], pos + length, True)
        return None


class _Divisions(NamedTuple):
    provinces: _Names
    cities: _Names
    districts: _Names


@lru_cache(maxsize=1)
def _divisions() -> _Divisions:
    raw = json.loads(DIVISIONS_FILE.read_text(encoding="utf-8"))
    provinces, cities, districts = _Names(), _Names(), _Names()
    for p in raw["provinces"]:
        province = _Division(p["code"], p["name"])
        provinces.add(province, p.get("short", ()))
        for c in p["cities"]:
            city = _Division(c["code"], c["name"], province)
            province.children.add(city, c.get("short", ()))
            cities.add(city, c.get("short", ()))
            if city.name == province.name:
                province.municipal = city
            for d in c["districts"]:
                district = _Division(d["code"], d["name"], city)
                city.children.add(district, d.get("short", ()))
                province.grandchildren.add(district, d.get("short", ()))
                districts.add(district, d.get("short", ()))
    return _Divisions(provinces, cities, districts)


def _one(divisions):
    return divisions[0] if len(divisions) == 1 else None


def _skip(text, pos):
    while pos < len(text) and text[pos] in SEPARATORS:
        pos += 1
    return pos


def _take_postal_code(text):
    matches = list(_POSTAL_CODE.finditer(text))
    if not matches:
        return text, ""
    # The last one: a postcode closes Taobao-style addresses.
    found = matches[-1]
    code = next(g for g in found.groups() if g).translate(_ASCII_DIGITS)
    return text[: found.start()] + text[found.end() :], code


def _short_ok(match, text, children, *, first=False):
    """Return whether a short name (广东, 深圳) really names the division here.

    first: the name opens the address, where 中山路 and 深圳大学 are more likely
    streets and places than a city; after a province they are taken as the city.
    """
    end = match.end
    if not match.short or end >= len(text) or text[end] in SEPARATORS:
        return True
    if children is None:
        # District short names (南山) are too common inside street names to take
        # unless they stand alone.
        return False
    if children.match(text, end):
        return True
    return text[end] not in SUFFIX_CHARS and not (first and text[end] in STREET_CHARS)


def _first(text, pos, candidates, *, first=False):
    """Return the division the longest name at pos names, or None.

    candidates is ``[(names, children_of)]`` from the larger division down; on equal
    lengths the larger division wins. A name shared by several divisions stops the
    search: a shorter name inside it would be a wrong guess.
    """
    matches = []
    for rank, (names, children_of) in enumerate(candidates):
        match = names.match(text, pos)
        if match:
            matches.append((-(match.end - pos), rank, match, children_of))
    for _, _, match, children_of in sorted(matches, key=lambda m: m[:2]):
        division = _one(match.divisions)
        if division is None:
            return None
        if _short_ok(match, text, children_of(division), first=first):
            return division, match.end
    return None


def _city_end(city, text, end):
    """Return where the city's name ends: 青岛市南区 is 青岛 + 市南区 when 南区 is nothing."""
    if (
        text[end - 1] == "市"
        and not city.children.match(text, end)
        and city.children.match(text, end - 1, shorts=False)
    ):
        return end - 1
    return end


def _municipal_children(division):
    return (division.municipal or division).children


def _no_children(division):
    return None


def address_parse(text: str) -> ParsedAddress:
    """Return the address split into province, city, district, detail and postal code."""
    data = _divisions()
    text, postal_code = _take_postal_code((text or "").strip())
    province = city = district = None
    pos = _skip(text, 0)

    found = _first(
        text,
        pos,
        [
            (data.provinces, _municipal_children),
            (data.cities, _municipal_children),
            (data.districts, _no_children),
        ],
        first=True,
    )
    if found:
        division, pos = found
        if division.parent is None:
            province = division
        elif division.parent.parent is None:
            city = division
            pos = _city_end(city, text, pos)
        else:
            district = division
        pos = _skip(text, pos)

    if province is not None and province.municipal is not None:
        city = province.municipal
        # Marketplaces repeat the city level: 上海市 上海市 浦东新区, 北京市 市辖区 朝阳区.
        repeated = province.children.match(text, pos)
        if repeated and _short_ok(repeated, text, city.children, first=True):
            pos = _skip(text, repeated.end)
        elif text.startswith("市辖区", pos):
            pos = _skip(text, pos + 3)
    elif province is not None and province.children:
        found = _first(
            text,
            pos,
            [
                (province.children, _municipal_children),
                (province.grandchildren, _no_children),
            ],
        )
        if found is None:
            # A city of another province: keep what was written, the check reports it.
            match = data.cities.match(text, pos, shorts=False)
            if match and _one(match.divisions):
                found = match.divisions[0], match.end
        if found:
            division, pos = found
            if division.parent.parent is None:
                city = division
                pos = _city_end(city, text, pos)
            else:
                district = division
            pos = _skip(text, pos)

    if city is not None and district is None and city.children:
        match = city.children.match(text, pos)
        if match and _one(match.divisions) and _short_ok(match, text, None):
            district = match.divisions[0]
        else:
            match = data.districts.match(text, pos, shorts=False)
            if match and _one(match.divisions):
                district = match.divisions[0]
        if district is not None:
            pos = _skip(text, match.end)

    if district is not None and city is None:
        city = district.parent
    if city is not None and province is None:
        province = city.parent
    return ParsedAddress(
        province=province.name if province else "",
        city=city.name if city else "",
        district=district.name if district else "",
        detail=text[pos:].strip(SEPARATORS),
        postal_code=postal_code,
    )


def _resolve(province, city, district):
    """Return the divisions the three names stand for (None where not recognised) and
    the problems found between them."""
    data = _divisions()
    province, city, district = (
        (name or "").strip() for name in (province, city, district)
    )
    problems = []
    p = c = d = None
    if province:
        p = _one(data.provinces.get(province))
        if p is None:
            problems.append("province_unknown")
    if p is not None and not p.children:
        # 香港, 澳门, 台湾: the data has no cities to check against.
        return p, None, None, problems

    if city:
        if p is not None:
            c = _one(p.children.get(city))
            if c is None and p.municipal is not None and city in MUNICIPAL_CITY_ALIASES:
                c = p.municipal
        if c is None:
            found = data.cities.get(city)
            if not found:
                problems.append("city_unknown")
            elif p is not None:
                problems.append("city_not_in_province")
            c = _one(found)
    if c is not None and not c.children:
        # 东莞, 中山, 儋州 and the province-run county-level cities have no districts;
        # the district slot holds a town, which the data cannot check.
        return p, c, None, problems

    if district:
        if c is not None:
            d = _one(c.children.get(district))
            if d is None:
                found = data.districts.get(district)
                problems.append("district_not_in_city" if found else "district_unknown")
                d = _one(found)
        else:
            found = data.districts.get(district)
            if not found:
                problems.append("district_unknown")
            elif p is not None:
                found = p.grandchildren.get(district) or found
            d = _one(found)
    return p, c, d, problems


def address_check(province: str, city: str, district: str) -> list[str]:
    """Return the problem codes of a province / city / district combination.

    Empty parts are not checked (``orders.validation`` reports missing parts), and a
    district is checked against its city only, not against a province alone.
    """
    return _resolve(province, city, district)[3]


def district_required(province: str, city: str) -> bool:
    """Whether an address in this city needs a district (东莞 and 中山 have none)."""
    p, c, _d, _problems = _resolve(province, city, "")
    if p is not None and not p.children:
        return False
    return c is None or bool(c.children)


def address_normalise(province: str, city: str, district: str) -> tuple[str, str, str]:
    """Return the official full names of the three parts; unrecognised parts as given."""
    p, c, d = _resolve(province, city, district)[:3]
    return (
        p.name if p else province,
        c.name if c else city,
        d.name if d else district,
    )

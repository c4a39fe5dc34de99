import pytest

from orders.addresses import (
    ParsedAddress,
    address_check,
    address_normalise,
    address_parse,
)


def parts(text):
    parsed = address_parse(text)
    return parsed.province, parsed.city, parsed.district, parsed.detail


def test_full_address_is_split_into_its_parts():
    assert address_parse("广东省深圳市南山区科技园路1号") == ParsedAddress(
        province="广东省",
        city="深圳市",
        district="南山区",
        detail="科技园路1号",
        postal_code="",
    )


def test_taobao_style_address_with_spaces_and_postcode_is_split():
    assert address_parse(
        "吉林省 通化市 柳河县 某某镇某某路12号(135300)"
    ) == ParsedAddress(
        province="吉林省",
        city="通化市",
        district="柳河县",
        detail="某某镇某某路12号",
        postal_code="135300",
    )


@pytest.mark.parametrize(
    "text",
    [
        "浙江省杭州市西湖区文三路1号（310012）",
        "浙江省杭州市西湖区文三路1号（３１００１２）",
        "浙江省杭州市西湖区文三路1号 邮编：310012",
        "浙江省杭州市西湖区文三路1号, 310012",
    ],
)
def test_postcode_is_taken_out_of_the_detail_in_ascii_digits(text):
    parsed = address_parse(text)
    assert (parsed.detail, parsed.postal_code) == ("文三路1号", "310012")


def test_house_numbers_are_not_taken_for_a_postcode():
    parsed = address_parse("浙江省杭州市西湖区文三路1号301室")
    assert (parsed.detail, parsed.postal_code) == ("文三路1号301室", "")


def test_short_province_and_city_names_give_full_names():
    assert parts("广东深圳南山区科技园路1号") == (
        "广东省",
        "深圳市",
        "南山区",
        "科技园路1号",
    )


def test_short_district_name_is_taken_when_it_stands_alone():
    assert parts("广东 深圳 南山 科技园路1号") == (
        "广东省",
        "深圳市",
        "南山区",
        "科技园路1号",
    )


def test_short_district_name_inside_the_street_is_left_in_the_detail():
    assert parts("广东省深圳市南山科技园路1号") == (
        "广东省",
        "深圳市",
        "",
        "南山科技园路1号",
    )


@pytest.mark.parametrize(
    ("text", "province", "short"),
    [
        ("广西南宁市青秀区民族大道1号", "广西壮族自治区", "广西"),
        ("内蒙古呼和浩特市新城区新华大街1号", "内蒙古自治区", "内蒙古"),
        ("新疆乌鲁木齐市天山区解放路1号", "新疆维吾尔自治区", "新疆"),
        ("宁夏银川市兴庆区解放街1号", "宁夏回族自治区", "宁夏"),
        ("西藏拉萨市城关区北京路1号", "西藏自治区", "西藏"),
    ],
)
def test_autonomous_regions_are_recognised_by_their_short_names(text, province, short):
    assert address_parse(text).province == province
    assert address_normalise(short, "", "") == (province, "", "")


def test_municipality_city_is_the_municipality_itself():
    assert parts("北京市朝阳区建国路88号") == (
        "北京市",
        "北京市",
        "朝阳区",
        "建国路88号",
    )


def test_short_municipality_name_is_followed_by_its_district():
    assert parts("上海浦东新区世纪大道100号") == (
        "上海市",
        "上海市",
        "浦东新区",
        "世纪大道100号",
    )


@pytest.mark.parametrize(
    "text",
    [
        "上海市 上海市 浦东新区 世纪大道100号",
        "上海市市辖区浦东新区世纪大道100号",
        "上海 浦东 世纪大道100号",
    ],
)
def test_municipality_written_the_marketplace_way_gives_the_same_parts(text):
    assert parts(text) == ("上海市", "上海市", "浦东新区", "世纪大道100号")


def test_street_named_after_the_municipality_stays_in_the_detail():
    assert parts("上海市上海路1号") == ("上海市", "上海市", "", "上海路1号")


def test_municipality_county_is_a_district_of_the_municipality():
    assert parts("重庆忠县忠州镇1号") == ("重庆市", "重庆市", "忠县", "忠州镇1号")


def test_missing_province_is_inferred_from_the_city():
    assert parts("深圳市南山区科技园路1号") == (
        "广东省",
        "深圳市",
        "南山区",
        "科技园路1号",
    )


def test_missing_city_is_inferred_from_a_district_unique_in_the_province():
    assert parts("吉林省朝阳区人民大街1号") == (
        "吉林省",
        "长春市",
        "朝阳区",
        "人民大街1号",
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("北京市朝阳区建国路88号", ("北京市", "北京市", "朝阳区")),
        ("长春市朝阳区人民大街1号", ("吉林省", "长春市", "朝阳区")),
        ("南京市鼓楼区中山路1号", ("江苏省", "南京市", "鼓楼区")),
        ("福建省福州市鼓楼区五四路1号", ("福建省", "福州市", "鼓楼区")),
    ],
)
def test_shared_district_name_is_resolved_by_the_city(text, expected):
    parsed = address_parse(text)
    assert (parsed.province, parsed.city, parsed.district) == expected


@pytest.mark.parametrize("text", ["朝阳区建国路88号", "鼓楼区中山路1号"])
def test_shared_district_name_without_a_city_is_not_guessed(text):
    assert parts(text) == ("", "", "", text)


def test_district_unique_in_the_country_gives_city_and_province():
    assert parts("余杭区文一西路1号") == ("浙江省", "杭州市", "余杭区", "文一西路1号")


def test_city_name_ending_where_a_district_name_starts_is_split_right():
    assert parts("山东青岛市南区香港中路1号") == (
        "山东省",
        "青岛市",
        "市南区",
        "香港中路1号",
    )


def test_city_name_taken_by_a_longer_full_name_wins_over_a_province_short_name():
    assert parts("吉林市船营区北京路1号") == (
        "吉林省",
        "吉林市",
        "船营区",
        "北京路1号",
    )


def test_street_named_after_a_city_is_not_taken_for_the_city():
    assert parts("中山路100号") == ("", "", "", "中山路100号")


def test_city_without_districts_leaves_the_town_in_the_detail():
    assert parts("广东省东莞市长安镇长青路1号") == (
        "广东省",
        "东莞市",
        "",
        "长安镇长青路1号",
    )


def test_city_of_another_province_is_kept_for_the_check_to_report():
    parsed = address_parse("广东省杭州市西湖区文三路1号")
    assert (parsed.province, parsed.city, parsed.district) == (
        "广东省",
        "杭州市",
        "西湖区",
    )
    assert address_check(parsed.province, parsed.city, parsed.district) == [
        "city_not_in_province"
    ]


@pytest.mark.parametrize(
    "text", ["", "   ", "hello world", "请尽快发货", "(123456)", "张三 13800138000"]
)
def test_unknown_text_gives_empty_parts_without_raising(text):
    parsed = address_parse(text)
    assert (parsed.province, parsed.city, parsed.district) == ("", "", "")


def test_unknown_text_is_kept_as_the_detail():
    assert address_parse(" 请尽快发货 ").detail == "请尽快发货"


def test_leading_separators_are_stripped_from_the_detail():
    assert address_parse("广东省,深圳市,南山区, 科技园路1号").detail == "科技园路1号"


def test_consistent_combination_has_no_problems():
    assert address_check("广东省", "深圳市", "南山区") == []


def test_short_forms_are_consistent_too():
    assert address_check("广东", "深圳", "南山") == []


@pytest.mark.parametrize(
    ("province", "city", "district"),
    [
        ("北京市", "北京市", "朝阳区"),
        ("北京", "北京", "朝阳"),
        ("北京市", "市辖区", "朝阳区"),
        ("重庆市", "县", "忠县"),
    ],
)
def test_municipality_city_may_be_written_several_ways(province, city, district):
    assert address_check(province, city, district) == []


def test_city_of_another_province_is_reported():
    assert address_check("广东省", "杭州市", "") == ["city_not_in_province"]


def test_district_of_another_city_is_reported():
    assert address_check("广东省", "深圳市", "西湖区") == ["district_not_in_city"]


def test_unknown_names_are_reported_at_each_level():
    assert address_check("火星省", "", "") == ["province_unknown"]
    assert address_check("广东省", "火星市", "") == ["city_unknown"]
    assert address_check("广东省", "深圳市", "火星区") == ["district_unknown"]


def test_unknown_city_leaves_the_district_checked_against_the_country():
    assert address_check("广东省", "火星市", "火星区") == [
        "city_unknown",
        "district_unknown",
    ]
    assert address_check("广东省", "火星市", "南山区") == ["city_unknown"]


def test_empty_parts_are_left_to_the_missing_checks():
    assert address_check("", "", "") == []
    assert address_check("广东省", "", "西湖区") == []


def test_district_of_a_city_without_districts_is_not_checked():
    assert address_check("广东省", "东莞市", "长安镇") == []


def test_short_forms_are_normalised_to_full_names():
    assert address_normalise("广东", "深圳", "南山") == ("广东省", "深圳市", "南山区")


def test_municipality_placeholder_city_is_normalised_to_the_municipality():
    assert address_normalise("北京", "市辖区", "朝阳") == (
        "北京市",
        "北京市",
        "朝阳区",
    )


def test_district_is_normalised_within_the_province_when_the_city_is_missing():
    assert address_normalise("吉林省", "", "朝阳") == ("吉林省", "", "朝阳区")


def test_ambiguous_or_unknown_names_are_returned_as_given():
    assert address_normalise("", "", "朝阳区") == ("", "", "朝阳区")
    assert address_normalise(" 火星 ", "x", "鼓楼") == (" 火星 ", "x", "鼓楼")

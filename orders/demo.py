"""Demo data for a small Chinese online shop: catalogue, warehouses, carriers, channels,
staff logins, and orders in every status.

Orders are built through the real services (create, pay, pick, ship, scan, collect,
complete, cancel), so stock levels, reservations, movements, the timeline and the
notification outbox agree with each other exactly as they would in use.

Everything is keyed on natural keys (SKU, codes, usernames, and for orders the pair
channel + ``DEMO-0001``-style external id), so running the seed again creates nothing.
The order plans come from ``random.Random(2026)``: the same names, addresses, lines and
statuses every time.

The services stamp their rows with "now". So that the console shows a believable
month of trading, each step's new rows are re-dated afterwards to the simulated time
of that step (``_Clock``). That is the one place this module writes another app's
tables directly; it touches timestamps only, never quantities or statuses.
"""

import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from billing.models import JournalEntry, Payment
from billing.services import cod_collection_record, payment_confirm
from fulfillment.models import Carrier, Shipment
from fulfillment.services import demo_tracking_number, fulfillment_start, shipment_ship
from inventory.models import Product, StockLevel, StockMovement, Warehouse
from inventory.services import stock_receive
from orders.models import (
    Channel,
    Coupon,
    Customer,
    Order,
    OrderEvent,
    Promotion,
    ShippingRule,
    TaxRule,
)
from orders.phones import phone_is_mobile
from orders.roles import CUSTOMER_SERVICE, FINANCE, OWNER, WAREHOUSE, roles_sync
from orders.services import (
    LineInput,
    OrderInput,
    order_cancel,
    order_complete,
    order_create,
)
from tracking.models import Notification, TrackingEvent, TrackingStatus
from tracking.services import tracking_event_record

S = Order.Status
SEED = 2026
DEFAULT_ORDERS = 200
DEMO_PREFIX = "DEMO-"


# --- Pricing rules (orders/pricing.py) ----------------------------------------
# Keyed on their names (coupons on their codes). Prices include VAT, as in Chinese
# retail; see the README's "Pricing" section for how they combine.

K = Promotion.Kind

# name, kind, priority, stackable, figures, categories, SKUs, channel codes
PROMOTIONS = [
    (
        "官网App 茶叶95折",
        K.PERCENT_OFF,
        40,
        True,
        {"percent": "5"},
        ["茶叶"],
        [],
        ["web", "app"],
    ),
    (
        "牛轧糖 买二送一",
        K.BUY_X_GET_Y,
        35,
        True,
        {"buy_quantity": 2, "get_quantity": 1},
        [],
        ["SNK-NG-300"],
        [],
    ),
    (
        "杯具 满59立减10元",
        K.AMOUNT_OFF,
        30,
        True,
        {"amount": "10.00", "threshold": "59.00"},
        ["杯具"],
        [],
        [],
    ),
    (
        "零食 每满99减15 上不封顶",
        K.THRESHOLD,
        20,
        True,
        {"amount": "15.00", "threshold": "99.00", "repeatable": True},
        ["零食"],
        [],
        [],
    ),
    (
        "礼盒 满500减50（不与其他优惠同享）",
        K.THRESHOLD,
        20,
        False,
        {"amount": "50.00", "threshold": "500.00", "repeatable": False},
        ["礼盒"],
        [],
        [],
    ),
    (
        "全场满199包邮",
        K.FREE_SHIPPING,
        0,
        True,
        {"threshold": "199.00"},
        [],
        [],
        [],
    ),
]

# code, promotion name, kind, figures, usage limit, per customer
COUPONS = [
    (
        "NEW20",
        "新客券 满100减20",
        K.AMOUNT_OFF,
        {"amount": "20.00", "threshold": "100.00"},
        1000,
        1,
    ),
    (
        "VIP50",
        "会员券 满300减50",
        K.THRESHOLD,
        {"amount": "50.00", "threshold": "300.00"},
        200,
        2,
    ),
]

REMOTE = ["新疆", "西藏", "青海", "内蒙古", "宁夏", "甘肃"]
# name, provinces (empty: everywhere else), 首重 kg, fee, 续重 kg, fee, free over, remote surcharge, priority
SHIPPING_RULES = [
    (
        "江浙沪皖 首重6元",
        ["上海", "江苏", "浙江", "安徽"],
        "1",
        "6.00",
        "1",
        "2.00",
        "99.00",
        "0",
        10,
    ),
    (
        "华南 首重8元",
        ["广东", "广西", "福建", "海南"],
        "1",
        "8.00",
        "1",
        "3.00",
        "99.00",
        "0",
        10,
    ),
    (
        "新疆西藏 首重20元",
        ["新疆", "西藏"],
        "1",
        "20.00",
        "1",
        "12.00",
        None,
        "10.00",
        10,
    ),
    ("全国 首重12元", [], "1", "12.00", "1", "5.00", "99.00", "8.00", 0),
]

# name, category, rate, effective from: a change of policy is a new row.
TAX_RULES = [
    ("增值税 16%（2018年5月起）", "", "0.1600", (2018, 5, 1)),
    ("增值税 13%（2019年4月起）", "", "0.1300", (2019, 4, 1)),
]

# --- Reference data ---------------------------------------------------------

# (sku, name, category, price, cost, weight kg, units in hz, units in gz)
PRODUCTS = [
    (
        "TEA-LJ-250",
        "西湖龙井 明前特级 250g",
        "茶叶",
        "398.00",
        "226.00",
        "0.320",
        120,
        0,
    ),
    (
        "TEA-LJ-100",
        "西湖龙井 雨前一级 100g",
        "茶叶",
        "128.00",
        "66.00",
        "0.150",
        200,
        0,
    ),
    (
        "TEA-TGY-250",
        "安溪铁观音 清香型 250g",
        "茶叶",
        "168.00",
        "82.00",
        "0.300",
        150,
        0,
    ),
    ("TEA-PE-357", "云南普洱 熟茶饼 357g", "茶叶", "158.00", "70.00", "0.400", 120, 0),
    (
        "TEA-PE-2012",
        "普洱 2012年 古树生茶饼 357g",
        "茶叶",
        "1880.00",
        "1100.00",
        "0.400",
        2,
        0,
    ),
    ("TEA-DHP-125", "武夷山大红袍 125g", "茶叶", "238.00", "120.00", "0.180", 100, 0),
    ("TEA-BLC-100", "洞庭碧螺春 100g", "茶叶", "148.00", "72.00", "0.150", 100, 0),
    ("TEA-JSM-100", "福州茉莉花茶 100g", "茶叶", "68.00", "28.00", "0.150", 150, 0),
    ("TEA-AJB-50", "安吉白茶 50g", "茶叶", "98.00", "45.00", "0.100", 150, 0),
    ("GIFT-LJ-BOX", "西湖龙井 送礼礼盒装", "礼盒", "588.00", "320.00", "0.900", 60, 0),
    ("SNK-HT-250", "临安手剥山核桃 250g", "零食", "78.00", "38.00", "0.280", 150, 0),
    ("SNK-ZAO-500", "新疆若羌灰枣 500g", "零食", "39.00", "18.00", "0.520", 200, 80),
    ("SNK-MG-200", "云南芒果干 200g", "零食", "26.00", "10.50", "0.220", 200, 80),
    ("SNK-NG-300", "手工牛轧糖 300g", "零食", "36.00", "15.00", "0.320", 150, 0),
    ("SNK-LDG-300", "杭式绿豆糕 300g", "零食", "28.00", "11.00", "0.320", 150, 0),
    ("SNK-FLS-6", "凤梨酥 6枚装", "零食", "45.00", "20.00", "0.350", 0, 150),
    ("SNK-LPB-8", "广式老婆饼 8个装", "零食", "32.00", "13.00", "0.450", 0, 150),
    ("SNK-LC-500", "广式腊肠 500g", "零食", "69.00", "35.00", "0.520", 0, 120),
    (
        "CASE-IP15-CLR",
        "iPhone 15 透明防摔手机壳",
        "手机壳",
        "39.00",
        "8.00",
        "0.050",
        0,
        200,
    ),
    (
        "CASE-IP15-MAG",
        "iPhone 15 磁吸硅胶手机壳",
        "手机壳",
        "69.00",
        "18.00",
        "0.060",
        0,
        150,
    ),
    (
        "CASE-IP16P-LTH",
        "iPhone 16 Pro 真皮手机壳",
        "手机壳",
        "129.00",
        "48.00",
        "0.060",
        0,
        4,
    ),
    (
        "CASE-HW-M60",
        "华为 Mate 60 素皮手机壳",
        "手机壳",
        "59.00",
        "15.00",
        "0.060",
        0,
        150,
    ),
    ("CASE-MI14-CLR", "小米14 透明手机壳", "手机壳", "29.00", "6.00", "0.040", 0, 200),
    ("ACC-CHG-20W", "20W PD 快充充电头", "数码配件", "49.00", "19.00", "0.080", 0, 150),
    (
        "ACC-CBL-C1",
        "Type-C 快充数据线 1米",
        "数码配件",
        "19.00",
        "5.00",
        "0.050",
        0,
        250,
    ),
    (
        "ACC-FILM-IP15",
        "iPhone 15 钢化膜 两片装",
        "数码配件",
        "25.00",
        "4.00",
        "0.040",
        0,
        250,
    ),
    ("MUG-CER-350", "青花陶瓷马克杯 350ml", "杯具", "45.00", "16.00", "0.420", 80, 80),
    ("MUG-GLS-400", "双层玻璃泡茶杯 400ml", "杯具", "59.00", "22.00", "0.380", 80, 80),
    ("MUG-THM-500", "316不锈钢保温杯 500ml", "杯具", "89.00", "36.00", "0.350", 80, 80),
    (
        "MUG-TRV-SET",
        "便携旅行茶具 一壶四杯",
        "杯具",
        "168.00",
        "70.00",
        "0.800",
        60,
        40,
    ),
    ("MUG-JDZ-GW", "景德镇手绘盖碗", "杯具", "128.00", "52.00", "0.300", 50, 0),
]
# Prices are whole yuan: on SQLite the order_line_total_adds_up check compares
# floats, so 3 × 39.90 would be refused (reported; see the check constraints).
# Kept out of ordinary orders: the backorders ask for more than these hold.
LOW_STOCK = ("TEA-PE-2012", "CASE-IP16P-LTH")

WAREHOUSES = [
    # code, name, province, city, address, priority
    ("hz", "杭州仓", "浙江省", "杭州市", "余杭区仓前街道良睦路1399号", 10),
    ("gz", "广州仓", "广东省", "广州市", "白云区太和镇大源北路88号", 20),
]

CARRIERS = [
    # code, name, tracking URL, cash on delivery
    (
        "sf",
        "顺丰速运",
        "https://www.kuaidi100.com/chaxun?com=shunfeng&nu={number}",
        True,
    ),
    (
        "zto",
        "中通快递",
        "https://www.kuaidi100.com/chaxun?com=zhongtong&nu={number}",
        False,
    ),
    (
        "yto",
        "圆通速递",
        "https://www.kuaidi100.com/chaxun?com=yuantong&nu={number}",
        False,
    ),
    (
        "yunda",
        "韵达速递",
        "https://www.kuaidi100.com/chaxun?com=yunda&nu={number}",
        False,
    ),
    (
        "sto",
        "申通快递",
        "https://www.kuaidi100.com/chaxun?com=shentong&nu={number}",
        False,
    ),
    ("jd", "京东物流", "https://www.kuaidi100.com/chaxun?com=jd&nu={number}", True),
    (
        "ems",
        "中国邮政EMS",
        "https://www.kuaidi100.com/chaxun?com=ems&nu={number}",
        True,
    ),
    (
        "jtexpress",
        "极兔速递",
        "https://www.kuaidi100.com/chaxun?com=jtexpress&nu={number}",
        False,
    ),
    # The built-in demo carrier: its numbers look up nowhere.
    ("demo", "演示快递", "", True),
]

# Carrier services, regions served and rate tables (首重/续重 per region group;
# the carriers' price to the shop, not what customers pay). J&T and STO stay off the
# far west; JD and SF go everywhere.
EAST = ["上海", "江苏", "浙江", "安徽"]
SOUTH = ["广东", "广西", "福建", "海南"]
FAR_WEST = ["新疆", "西藏"]
CARRIER_SHIPPING = {
    # code: (services, regions served, [(provinces, first kg fee, per extra kg)])
    "sf": (
        [("standard", "顺丰标快"), ("express", "顺丰特快")],
        [],
        [(EAST, "12.00", "2.00"), (FAR_WEST, "23.00", "12.00"), ([], "15.00", "5.00")],
    ),
    "zto": (
        [("standard", "中通标快")],
        [],
        [(EAST, "3.50", "1.00"), (FAR_WEST, "16.00", "10.00"), ([], "5.00", "2.00")],
    ),
    "yto": (
        [("standard", "圆通标快")],
        [],
        [(EAST, "3.80", "1.00"), (SOUTH, "4.50", "1.50"), ([], "5.20", "2.00")],
    ),
    "yunda": (
        [("standard", "韵达标快")],
        [],
        [(EAST, "3.60", "1.00"), ([], "5.00", "2.20")],
    ),
    "sto": (
        [("standard", "申通标快")],
        [*EAST, *SOUTH, "北京", "天津", "河北", "山东", "河南", "湖北", "湖南", "四川"],
        [(EAST, "3.40", "1.00"), ([], "4.80", "2.00")],
    ),
    "jd": (
        [("standard", "京东标快"), ("express", "京东特快")],
        [],
        [(EAST, "10.00", "2.00"), ([], "13.00", "4.00")],
    ),
    "ems": (
        [("standard", "EMS标准快递"), ("economy", "邮政快递包裹")],
        [],
        [(FAR_WEST, "15.00", "8.00"), ([], "11.00", "4.00")],
    ),
    "jtexpress": (
        [("standard", "极兔标快")],
        [*EAST, *SOUTH, "北京", "山东", "河南", "湖北", "湖南", "四川"],
        [(EAST, "3.20", "1.00"), ([], "4.60", "2.00")],
    ),
}
# Channel: hours to ship after the order is accepted, and the carrier it insists on.
CHANNEL_SHIPPING = {
    "web": (72, None),
    "app": (72, None),
    "phone": (48, "sf"),
    "taobao": (48, None),
    "jd": (24, "jd"),
    "pdd": (48, None),
}

CHANNELS = [
    ("web", "官网", Channel.Kind.WEB),
    ("app", "手机App", Channel.Kind.APP),
    ("phone", "电话订购", Channel.Kind.PHONE),
    ("taobao", "淘宝店", Channel.Kind.MARKETPLACE),
    ("jd", "京东店", Channel.Kind.MARKETPLACE),
    ("pdd", "拼多多店", Channel.Kind.MARKETPLACE),
]


@dataclass(frozen=True)
class DemoLogin:
    username: str
    password: str
    group: str
    display_name: str
    superuser: bool = False


DEMO_LOGINS = [
    DemoLogin("owner", "demo-owner-2026", OWNER, "王芳", superuser=True),
    DemoLogin("service", "demo-service-2026", CUSTOMER_SERVICE, "李静"),
    DemoLogin("warehouse", "demo-warehouse-2026", WAREHOUSE, "陈建国"),
    DemoLogin("finance", "demo-finance-2026", FINANCE, "张丽"),
]

# How many of 200 orders end in each status. RECEIVED is transient (processing
# moves every new order on at once); PARTIALLY_SHIPPED is not reached because the
# demo keeps ALLOCATION_ALLOW_SPLIT off, so an order is picked whole from one warehouse.
STATUS_MIX = {
    S.NEEDS_CORRECTION: 10,
    S.AWAITING_PAYMENT: 20,
    S.BACKORDERED: 10,
    S.READY_TO_FULFILL: 25,
    S.IN_FULFILLMENT: 20,
    S.SHIPPED: 35,
    S.DELIVERED: 30,
    S.COMPLETED: 40,
    S.CANCELLED: 10,
}
# REVIEW needs a routing rule, and the demo has none. The demo's returns stay
# open (requested, approved), so no order is (partially) returned yet.
UNREACHABLE = (
    S.RECEIVED,
    S.PARTIALLY_SHIPPED,
    S.REVIEW,
    S.PARTIALLY_RETURNED,
    S.RETURNED,
)

# When orders of each final status were placed: (min, max) days ago.
PLACED_DAYS_AGO = {
    S.NEEDS_CORRECTION: (0.05, 4),
    S.AWAITING_PAYMENT: (0.02, 2.5),
    S.BACKORDERED: (0.5, 10),
    S.READY_TO_FULFILL: (0.05, 1.5),
    S.IN_FULFILLMENT: (0.3, 2.5),
    S.SHIPPED: (1.5, 6),
    S.DELIVERED: (5, 18),
    S.COMPLETED: (9, 30),
    S.CANCELLED: (1, 30),
}

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董潘袁蔡蒋余于杜叶程魏苏吕丁沈"
GIVEN_NAMES = [
    "伟",
    "芳",
    "娜",
    "敏",
    "静",
    "丽",
    "强",
    "磊",
    "军",
    "洋",
    "勇",
    "艳",
    "杰",
    "娟",
    "涛",
    "明",
    "超",
    "秀英",
    "霞",
    "平",
    "刚",
    "桂英",
    "建华",
    "文",
    "婷婷",
    "子轩",
    "梓涵",
    "浩然",
    "雨桐",
    "欣怡",
    "宇航",
    "思远",
    "晓燕",
    "志强",
    "海燕",
    "雪梅",
    "一鸣",
    "佳怡",
    "俊杰",
    "诗涵",
    "家豪",
    "晨曦",
    "嘉欣",
    "明轩",
    "若曦",
    "国栋",
]
MOBILE_PREFIXES = [
    "130",
    "131",
    "132",
    "133",
    "135",
    "136",
    "137",
    "138",
    "139",
    "150",
    "151",
    "152",
    "153",
    "155",
    "156",
    "157",
    "158",
    "159",
    "166",
    "177",
    "180",
    "181",
    "182",
    "183",
    "185",
    "186",
    "187",
    "188",
    "189",
    "199",
]
# province, city, district, postal code, streets
PLACES = [
    ("浙江省", "杭州市", "西湖区", "310012", ["文三路", "教工路", "天目山路"]),
    ("浙江省", "杭州市", "滨江区", "310051", ["江南大道", "滨盛路"]),
    ("浙江省", "宁波市", "鄞州区", "315100", ["天童南路", "四明中路"]),
    ("浙江省", "温州市", "鹿城区", "325000", ["人民中路", "车站大道"]),
    ("上海市", "上海市", "浦东新区", "200120", ["世纪大道", "张杨路", "锦绣路"]),
    ("上海市", "上海市", "徐汇区", "200030", ["漕溪北路", "肇嘉浜路"]),
    ("北京市", "北京市", "朝阳区", "100020", ["建国路", "朝阳北路", "望京街"]),
    ("北京市", "北京市", "海淀区", "100080", ["中关村大街", "学院路"]),
    ("广东省", "深圳市", "南山区", "518057", ["科技园南路", "南海大道", "深南大道"]),
    (
        "广东省",
        "广州市",
        "天河区",
        "510620",
        ["天河路", "体育西路", "珠江新城花城大道"],
    ),
    ("广东省", "东莞市", "南城区", "523070", ["鸿福路", "宏图路"]),
    ("江苏省", "南京市", "鼓楼区", "210008", ["中山北路", "北京西路"]),
    ("江苏省", "苏州市", "姑苏区", "215000", ["人民路", "干将西路"]),
    ("四川省", "成都市", "武侯区", "610041", ["人民南路四段", "科华北路", "天府大道"]),
    ("湖北省", "武汉市", "洪山区", "430070", ["珞喻路", "雄楚大道"]),
    ("湖南省", "长沙市", "岳麓区", "410006", ["麓山南路", "枫林三路"]),
    ("福建省", "厦门市", "思明区", "361001", ["中山路", "湖滨南路"]),
    ("山东省", "青岛市", "市南区", "266071", ["香港中路", "山东路"]),
    ("陕西省", "西安市", "雁塔区", "710061", ["小寨东路", "高新路"]),
    ("河南省", "郑州市", "金水区", "450003", ["花园路", "经三路"]),
    ("重庆市", "重庆市", "渝中区", "400010", ["解放碑民权路", "中山四路"]),
    ("天津市", "天津市", "和平区", "300041", ["南京路", "滨江道"]),
    ("辽宁省", "沈阳市", "和平区", "110001", ["中华路", "南京北街"]),
    ("云南省", "昆明市", "五华区", "650031", ["人民中路", "青年路"]),
    ("安徽省", "合肥市", "蜀山区", "230031", ["长江西路", "黄山路"]),
    ("江西省", "南昌市", "东湖区", "330006", ["八一大道", "阳明路"]),
    ("广西壮族自治区", "南宁市", "青秀区", "530022", ["民族大道", "东葛路"]),
]
NOTES = [
    "",
    "",
    "",
    "",
    "请尽快发货，谢谢！",
    "送人的，包裹里请不要放价格单",
    "工作日白天家里没人，请放快递柜",
    "麻烦包装结实一点",
    "请开电子发票，抬头见留言",
]
CANCEL_REASONS = {
    S.AWAITING_PAYMENT: "客户超时未付款，订单关闭",
    S.READY_TO_FULFILL: "客户要求取消：拍错了规格",
    S.IN_FULFILLMENT: "客户要求取消：不想要了",
    S.NEEDS_CORRECTION: "联系不上收件人，无法确认地址",
}
COURIERS = ["张师傅", "李师傅", "王师傅", "刘师傅", "赵师傅", "黄师傅"]


# --- Plans: what each demo order should become ------------------------------


@dataclass
class Person:
    name: str
    phone: str
    email: str
    address: dict


@dataclass
class OrderPlan:
    external_id: str
    channel: str
    target: str
    person: Person
    lines: list[tuple[str, int]]
    payment_method: str  # Order.PaymentMethod
    pay_with: str  # Payment.Method
    placed_days_ago: float
    gaps: dict  # hours from one step to the next, drawn up front
    note: str = ""
    broken: str = ""  # "", "phone", "landline", "district"
    cancel_from: str = ""  # the status a cancelled order was cancelled in
    scans: int = 5
    cod_collected: bool = False
    discount: Decimal = Decimal("0")
    courier: str = ""
    courier_phone: str = ""
    signer: str = "本人"
    extra: dict = field(default_factory=dict)


def ean13(body12: str) -> str:
    """Return ``body12`` with its EAN-13 check digit."""
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body12))
    return body12 + str((10 - total % 10) % 10)


def _mobile(rng: random.Random) -> str:
    while True:
        number = rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"
        if phone_is_mobile(number):
            return number


def _person(rng: random.Random, n: int) -> Person:
    name = rng.choice(SURNAMES) + rng.choice(GIVEN_NAMES)
    province, city, district, postal, streets = rng.choice(PLACES)
    detail = (
        f"{rng.choice(streets)}{rng.randint(1, 999)}号"
        f"{rng.randint(1, 30)}幢{rng.randint(1, 4)}单元{rng.randint(1, 33)}0{rng.randint(1, 4)}室"
    )
    return Person(
        name=name,
        phone=_mobile(rng),
        email=f"buyer{n:03d}@example.com" if rng.random() < 0.35 else "",
        address={
            "province": province,
            "city": city,
            "district": district,
            "address_detail": detail,
            "postal_code": postal,
        },
    )


def _status_counts(orders: int) -> dict[str, int]:
    total = sum(STATUS_MIX.values())
    counts = {s: max(1, round(n * orders / total)) for s, n in STATUS_MIX.items()}
    counts[S.COMPLETED] += orders - sum(counts.values())
    if counts[S.COMPLETED] < 1:
        raise ValueError(f"At least {len(STATUS_MIX)} orders are needed.")
    return counts


def order_plans(orders: int = DEFAULT_ORDERS) -> list[OrderPlan]:
    """Return the demo orders to build, oldest first; the same list on every call."""
    rng = random.Random(SEED)
    people = [_person(rng, n) for n in range(max(20, orders * 7 // 10))]
    hz_pool = [p[0] for p in PRODUCTS if p[6] and p[0] not in LOW_STOCK]
    gz_pool = [p[0] for p in PRODUCTS if p[7] and p[0] not in LOW_STOCK]
    targets = [s for s, n in _status_counts(orders).items() for _ in range(n)]
    rng.shuffle(targets)
    cancel_froms = [
        S.AWAITING_PAYMENT,
        S.AWAITING_PAYMENT,
        S.AWAITING_PAYMENT,
        S.READY_TO_FULFILL,
        S.READY_TO_FULFILL,
        S.IN_FULFILLMENT,
        S.IN_FULFILLMENT,
        S.NEEDS_CORRECTION,
    ]
    plans = []
    for target in targets:
        cancel_from = rng.choice(cancel_froms) if target == S.CANCELLED else ""
        unpaid = S.AWAITING_PAYMENT in (target, cancel_from)
        if unpaid:
            channel = rng.choice(["web", "web", "app", "phone"])
        else:
            channel = rng.choices(
                ["taobao", "jd", "pdd", "web", "app", "phone"], [30, 15, 15, 20, 12, 8]
            )[0]
        cod = (
            channel in ("web", "app", "phone")
            and not unpaid
            and target != S.NEEDS_CORRECTION
            and rng.random() < 0.25
        )
        pool = hz_pool if rng.random() < 0.65 else gz_pool
        skus = rng.sample(pool, rng.choice([1, 1, 1, 2, 2, 3]))
        lines = [(sku, rng.choice([1, 1, 1, 1, 2, 2, 3])) for sku in skus]
        if target == S.BACKORDERED:
            low = rng.choice(LOW_STOCK)
            home = hz_pool if low.startswith("TEA") else gz_pool
            lines = [(low, rng.choice([3, 5]) if low.startswith("TEA") else 5)]
            lines.append((rng.choice(home), 1))
        if channel in ("taobao", "jd", "pdd"):
            pay_with = Payment.Method.MARKETPLACE
        elif channel == "phone":
            pay_with = rng.choice([Payment.Method.WECHAT, Payment.Method.BANK_TRANSFER])
        else:
            pay_with = rng.choice([Payment.Method.ALIPAY, Payment.Method.WECHAT])
        lo, hi = PLACED_DAYS_AGO[target]
        plan = OrderPlan(
            external_id="",
            channel=channel,
            target=target,
            person=rng.choice(people),
            lines=lines,
            payment_method="cod" if cod else "prepaid",
            pay_with=Payment.Method.COD if cod else pay_with,
            placed_days_ago=rng.uniform(lo, hi),
            gaps={
                "paid": rng.uniform(0.03, 3),
                "picking": rng.uniform(1, 20),
                "shipped": rng.uniform(0.5, 5),
                # collected, left the sorting centre, reached the destination city,
                # out for delivery, delivered
                "scans": [
                    rng.uniform(1, 3),
                    rng.uniform(6, 14),
                    rng.uniform(10, 26),
                    rng.uniform(2, 12),
                    rng.uniform(1, 6),
                ],
                "collected": rng.uniform(1, 24),  # courier hands the cash over
                "closed": rng.uniform(24, 72),  # finance closes the order
                "cancelled": rng.uniform(0.5, 30),
            },
            note=rng.choice(NOTES),
            cancel_from=cancel_from,
            scans=rng.choice([1, 2, 3, 4]) if target == S.SHIPPED else 5,
            cod_collected=rng.random() < 0.5,
            courier=rng.choice(COURIERS),
            courier_phone=_mobile(rng),
            signer=rng.choice(["本人", "本人", "家人", "前台", "快递柜"]),
        )
        if target == S.NEEDS_CORRECTION or cancel_from == S.NEEDS_CORRECTION:
            plan.broken = rng.choice(["phone", "phone", "landline", "district"])
        if channel in ("taobao", "pdd") and rng.random() < 0.3:
            plan.discount = Decimal(rng.choice(["5.00", "10.00"]))
        plans.append(plan)
    plans.sort(key=lambda p: -p.placed_days_ago)
    for number, plan in enumerate(plans, start=1):
        plan.external_id = f"{DEMO_PREFIX}{number:04d}"
    return plans


# --- Building ---------------------------------------------------------------


class _Clock:
    """Re-dates the rows each step creates to the simulated time of that step."""

    STAMPED = [
        (Customer, "created_at"),
        (OrderEvent, "created_at"),
        (StockMovement, "created_at"),
        (Payment, "confirmed_at"),
        (JournalEntry, "date"),  # the books follow the simulated day too
        (Notification, "created_at"),
        (TrackingEvent, "recorded_at"),
        (Shipment, "created_at"),
    ]

    def __init__(self):
        self.start = {model: self._last(model) for model, _f in self.STAMPED}
        self.marks = dict(self.start)

    @staticmethod
    def _last(model):
        return model.objects.order_by("-pk").values_list("pk", flat=True).first() or 0

    def stamp(self, when):
        for model, name in self.STAMPED:
            last = self._last(model)
            if last > self.marks[model]:
                model.objects.filter(pk__gt=self.marks[model], pk__lte=last).update(
                    **{name: when}
                )
                self.marks[model] = last


@dataclass
class SeedReport:
    created: Counter = field(default_factory=Counter)
    orders_created: int = 0
    orders_existing: int = 0
    off_target: list = field(default_factory=list)


def catalogue_seed(report: SeedReport, *, received_at) -> dict[str, Product]:
    """Create or update the products, warehouses and their opening stock."""
    products = {}
    for i, (sku, name, category, price, cost, weight, _hz, _gz) in enumerate(PRODUCTS):
        product, created = Product.objects.update_or_create(
            sku=sku,
            defaults={
                "name": name,
                "category": category,
                "barcode": ean13(f"69{5512300000 + i * 7:010d}"),
                "price": Decimal(price),
                "cost": Decimal(cost),
                "weight_kg": Decimal(weight),
                "active": True,
            },
        )
        report.created["products"] += created
        products[sku] = product
    warehouses = {}
    for code, name, province, city, address, priority in WAREHOUSES:
        warehouse, created = Warehouse.objects.update_or_create(
            code=code,
            defaults={
                "name": name,
                "province": province,
                "city": city,
                "address": address,
                "priority": priority,
                "active": True,
            },
        )
        report.created["warehouses"] += created
        warehouses[code] = warehouse
    clock = _Clock()
    for sku, *_rest, hz, gz in PRODUCTS:
        for code, quantity in (("hz", hz), ("gz", gz)):
            warehouse = warehouses[code]
            if (
                quantity
                and not StockLevel.objects.filter(
                    product=products[sku], warehouse=warehouse
                ).exists()
            ):
                stock_receive(
                    product=products[sku],
                    warehouse=warehouse,
                    quantity=quantity,
                    actor="demo",
                    reason="期初入库（演示数据）",
                )
                report.created["stock receipts"] += 1
    clock.stamp(received_at)
    return products


def reference_seed(report: SeedReport) -> None:
    """Create or update the carriers and sales channels."""
    for code, name, url, cod in CARRIERS:
        _carrier, created = Carrier.objects.update_or_create(
            code=code,
            defaults={"name": name, "tracking_url": url, "supports_cod": cod},
        )
        report.created["carriers"] += created
    for code, name, kind in CHANNELS:
        _channel, created = Channel.objects.update_or_create(
            code=code, defaults={"name": name, "kind": kind}
        )
        report.created["channels"] += created


def shipping_seed(report: SeedReport) -> None:
    """Create or update carrier services, accounts, regions, rate tables and ship-by policies."""
    from fulfillment.models import CarrierAccount, CarrierService, ChannelShipping

    carriers = {c.code: c for c in Carrier.objects.all()}
    for code, (services, regions, rates) in CARRIER_SHIPPING.items():
        carrier = carriers[code]
        if carrier.regions != regions:
            carrier.regions = regions
            carrier.save(update_fields=["regions"])
        for service_code, name in services:
            _service, created = CarrierService.objects.update_or_create(
                carrier=carrier, code=service_code, defaults={"name": name}
            )
            report.created["carrier services"] += created
        _account, created = CarrierAccount.objects.update_or_create(
            carrier=carrier,
            account_number=f"DEMO-{code.upper()}-0571",
            defaults={"name": "月结账号（演示）", "warehouse": None},
        )
        report.created["carrier accounts"] += created
        for provinces, first_fee, step_fee in rates:
            group = "、".join(provinces) if provinces else "其他地区"
            _rule, created = ShippingRule.objects.update_or_create(
                name=f"{carrier.name} {group}",
                defaults={
                    "carrier": carrier,
                    "provinces": provinces,
                    "first_weight_kg": Decimal("1"),
                    "first_fee": Decimal(first_fee),
                    "additional_weight_kg": Decimal("1"),
                    "additional_fee": Decimal(step_fee),
                    "priority": 0,
                },
            )
            report.created["carrier rates"] += created
    for code, (hours, carrier_code) in CHANNEL_SHIPPING.items():
        _policy, created = ChannelShipping.objects.update_or_create(
            channel=Channel.objects.get(code=code),
            defaults={
                "ship_within_hours": hours,
                "carrier": carriers.get(carrier_code) if carrier_code else None,
            },
        )
        report.created["channel shipping policies"] += created


def ship_by_redate() -> None:
    """Count the demo orders' ship-by hours from when they were placed, not from the seed run.

    The seed accepts every order at once; re-dated, some open orders are due today
    and some are late, as in a real shop.
    """
    from fulfillment.models import ChannelShipping

    for policy in ChannelShipping.objects.all():
        Order.objects.filter(
            channel_id=policy.channel_id,
            external_id__startswith=DEMO_PREFIX,
            ship_by__isnull=False,
        ).update(ship_by=F("placed_at") + timedelta(hours=policy.ship_within_hours))


def pricing_seed(report: SeedReport, *, products, now) -> None:
    """Create or update the demo promotions, coupons, shipping and tax rules."""
    channels = {c.code: c for c in Channel.objects.all()}
    tz = timezone.get_current_timezone()
    for name, kind, priority, stackable, figures, categories, skus, codes in PROMOTIONS:
        promotion, created = Promotion.objects.update_or_create(
            name=name,
            defaults={
                "kind": kind,
                "priority": priority,
                "stackable": stackable,
                "active": True,
                "requires_coupon": False,
                "categories": categories,
                **_figures(figures),
            },
        )
        promotion.products.set([products[sku] for sku in skus])
        promotion.channels.set([channels[code] for code in codes])
        report.created["promotions"] += created
    # A sale with a validity window: 双十二 (December 10–12) of the current year.
    year = timezone.localtime(now).year
    promotion, created = Promotion.objects.update_or_create(
        name="双十二 杯具88折",
        defaults={
            "kind": K.PERCENT_OFF,
            "priority": 50,
            "stackable": True,
            "active": True,
            "requires_coupon": False,
            "categories": ["杯具"],
            "valid_from": datetime(year, 12, 10, tzinfo=tz),
            "valid_until": datetime(year, 12, 13, tzinfo=tz),
            **_figures({"percent": "12"}),
        },
    )
    report.created["promotions"] += created
    for code, name, kind, figures, limit, per_customer in COUPONS:
        promotion, created = Promotion.objects.update_or_create(
            name=name,
            defaults={
                "kind": kind,
                "priority": 10,
                "stackable": True,
                "active": True,
                "requires_coupon": True,
                **_figures(figures),
            },
        )
        report.created["promotions"] += created
        _coupon, created = Coupon.objects.update_or_create(
            code=code,
            defaults={
                "promotion": promotion,
                "usage_limit": limit,
                "per_customer_limit": per_customer,
                "active": True,
            },
        )
        report.created["coupons"] += created
    for (
        name,
        provinces,
        first_kg,
        first_fee,
        step_kg,
        step_fee,
        free_over,
        surcharge,
        priority,
    ) in SHIPPING_RULES:
        _rule, created = ShippingRule.objects.update_or_create(
            name=name,
            defaults={
                "carrier": None,
                "provinces": provinces,
                "first_weight_kg": Decimal(first_kg),
                "first_fee": Decimal(first_fee),
                "additional_weight_kg": Decimal(step_kg),
                "additional_fee": Decimal(step_fee),
                "free_over": Decimal(free_over) if free_over else None,
                "remote_provinces": REMOTE if Decimal(surcharge) else [],
                "remote_surcharge": Decimal(surcharge),
                "priority": priority,
                "active": True,
            },
        )
        report.created["shipping rules"] += created
    for name, category, rate, (year, month, day) in TAX_RULES:
        _rule, created = TaxRule.objects.update_or_create(
            name=name,
            defaults={
                "category": category,
                "rate": Decimal(rate),
                "effective_from": datetime(year, month, day, tzinfo=tz),
            },
        )
        report.created["tax rules"] += created


def _figures(figures: dict) -> dict:
    """Return a promotion's figures with every other figure cleared (a re-seed may change kind)."""
    blank = {
        "percent": None,
        "amount": None,
        "threshold": None,
        "repeatable": False,
        "buy_quantity": None,
        "get_quantity": None,
    }
    return {
        **blank,
        **{
            key: Decimal(value) if isinstance(value, str) else value
            for key, value in figures.items()
        },
    }


def staff_seed(report: SeedReport, *, reset_passwords=False) -> dict:
    """Create one staff login per role; passwords are set only on creation or on reset."""
    roles_sync()
    users = {}
    for login in DEMO_LOGINS:
        user, created = get_user_model().objects.get_or_create(
            username=login.username,
            defaults={"first_name": login.display_name},
        )
        user.is_superuser = login.superuser
        user.is_staff = login.superuser  # only the owner uses the Django admin
        if created or reset_passwords:
            user.set_password(login.password)
        user.save()
        user.groups.set([Group.objects.get(name=login.group)])
        report.created["staff users"] += created
        users[login.username] = user
    return users


def orders_seed(
    report: SeedReport, *, plans, products, users, now=None, progress=None
) -> None:
    """Build every planned order that does not exist yet, oldest first."""
    now = now or timezone.now()
    channels = {c.code: c for c in Channel.objects.all()}
    demo = Carrier.objects.get(code="demo")
    existing = set(
        Order.objects.filter(external_id__startswith=DEMO_PREFIX).values_list(
            "channel__code", "external_id"
        )
    )
    for done, plan in enumerate(plans, start=1):
        if (plan.channel, plan.external_id) in existing:
            report.orders_existing += 1
        else:
            order = _order_build(
                plan,
                channel=channels[plan.channel],
                products=products,
                users=users,
                carrier=demo,
                now=now,
            )
            report.orders_created += 1
            if order.status != plan.target:
                report.off_target.append((plan.external_id, plan.target, order.status))
        if progress and (done % 25 == 0 or done == len(plans)):
            progress(done, len(plans))


class _Timeline:
    """The simulated time of an order's steps: each after the one before, none in the future."""

    def __init__(self, *, start, latest):
        self.moment = start
        self.latest = latest

    def peek(self, hours):
        return self.moment + timedelta(hours=hours)

    def advance(self, hours):
        step = min(self.peek(hours), self.latest)
        self.moment = max(self.moment + timedelta(seconds=30), step)
        return self.moment


def _order_build(plan: OrderPlan, *, channel, products, users, carrier, now) -> Order:
    placed_at = now - timedelta(days=plan.placed_days_ago)
    timeline = _Timeline(start=placed_at, latest=now - timedelta(minutes=10))
    with transaction.atomic():
        clock = _Clock()
        order = order_create(
            data=_order_input(plan, channel, products, placed_at),
            actor=_creator(plan, users),
        )
        clock.stamp(placed_at)
        order = _order_advance(plan, order, users, carrier, clock, timeline)
        Order.objects.filter(pk=order.pk).update(
            created_at=placed_at, updated_at=timeline.moment
        )
    # Messages are sent once the order's transaction commits (eagerly, in the seed);
    # date the sending a few seconds after the message was written.
    _notifications_redate(order, clock)
    order.refresh_from_db()
    return order


def _order_input(plan, channel, products, placed_at) -> OrderInput:
    person = plan.person
    address = dict(person.address)
    recipient_phone = ""
    if plan.broken == "phone":
        recipient_phone = person.phone[:7]  # a digit-short number, as typed in a hurry
    elif plan.broken == "landline":
        recipient_phone = "0571-8765" + person.phone[-4:]
    elif plan.broken == "district":
        address["district"] = ""
    lines = [LineInput(products[sku], quantity) for sku, quantity in plan.lines]
    subtotal = sum(products[sku].price * q for sku, q in plan.lines)
    marketplace = channel.kind == Channel.Kind.MARKETPLACE
    return OrderInput(
        channel=channel,
        customer_name=person.name,
        customer_phone=person.phone,
        customer_email=person.email,
        recipient_phone=recipient_phone,
        lines=lines,
        payment_method=plan.payment_method,
        address=address,
        external_id=plan.external_id,
        buyer_note=plan.note,
        # Our own channels' shipping comes from the shipping rules (pricing_seed).
        shipping_fee=Decimal("0"),
        discount_total=plan.discount if marketplace and subtotal > 30 else Decimal("0"),
        placed_at=placed_at,
    )


def _creator(plan, users):
    if plan.channel == "phone":
        return users["service"]
    if plan.channel in ("web", "app"):
        return "customer"
    return f"channel:{plan.channel}"


def _order_advance(plan, order, users, carrier, clock, timeline) -> Order:
    """Take a freshly created order through the steps that lead to its planned status."""
    target = plan.cancel_from or plan.target
    gaps = plan.gaps
    if target not in (S.NEEDS_CORRECTION, S.AWAITING_PAYMENT) and not order.is_cod:
        marketplace = plan.pay_with == Payment.Method.MARKETPLACE
        payment_confirm(
            order=order,
            method=plan.pay_with,
            amount=order.total,
            actor=_payer(plan, users),
            reference=_payment_reference(plan, order),
        )
        clock.stamp(timeline.advance(0.01 if marketplace else gaps["paid"]))
    picking = (S.IN_FULFILLMENT, S.SHIPPED, S.DELIVERED, S.COMPLETED)
    if target in picking:
        (shipment,) = fulfillment_start(order=order, actor=users["warehouse"])
        clock.stamp(timeline.advance(gaps["picking"]))
    if target in picking[1:]:
        shipment = shipment_ship(
            shipment=shipment,
            carrier=carrier,
            tracking_number=demo_tracking_number(),
            actor=users["warehouse"],
            weight_kg=sum(
                (line.product.weight_kg * line.quantity for line in order.lines.all()),
                Decimal("0.100"),
            ),
        )
        shipped_at = timeline.advance(gaps["shipped"])
        clock.stamp(shipped_at)
        Shipment.objects.filter(pk=shipment.pk).update(shipped_at=shipped_at)
        _scans_record(plan, order, shipment, clock, timeline)
    order.refresh_from_db()
    # The demo carrier's delivered scan records the cash itself (billing/cod.py).
    if (
        order.is_cod
        and order.payment_status == Order.PaymentStatus.COD_PENDING
        and (target == S.COMPLETED or (target == S.DELIVERED and plan.cod_collected))
    ):
        cod_collection_record(
            order=order,
            amount=order.total,
            actor=users["finance"],
            note="快递员代收货款已到账",
        )
        clock.stamp(timeline.advance(gaps["collected"]))
    if target == S.COMPLETED:
        order = order_complete(order=order, actor=users["finance"])
        clock.stamp(timeline.advance(gaps["closed"]))
    if plan.target == S.CANCELLED:
        order = order_cancel(
            order=order,
            actor=users["service"],
            reason=CANCEL_REASONS[plan.cancel_from],
        )
        clock.stamp(timeline.advance(gaps["cancelled"]))
    return order


def _payer(plan, users):
    if plan.pay_with == Payment.Method.MARKETPLACE:
        return f"channel:{plan.channel}"
    if plan.pay_with in (Payment.Method.ALIPAY, Payment.Method.WECHAT):
        return f"payment:{plan.pay_with}"  # the provider's notification
    return users["finance"]  # a transfer finance found on the bank statement


def _payment_reference(plan, order) -> str:
    if plan.pay_with == Payment.Method.MARKETPLACE:
        return f"{plan.channel}:{plan.external_id}"
    if plan.pay_with in (Payment.Method.ALIPAY, Payment.Method.WECHAT):
        prefix = "ALI" if plan.pay_with == Payment.Method.ALIPAY else "WX"
        return f"{prefix}{order.number}{plan.external_id[-4:]}"
    return ""


def _scans_record(plan, order, shipment, clock, timeline) -> None:
    warehouse = shipment.warehouse
    city = order.city
    hub = f"{warehouse.city.removesuffix('市')}转运中心"
    scans = [
        (
            TrackingStatus.IN_TRANSIT,
            f"【{warehouse.city}】演示快递已揽收",
            warehouse.city,
        ),
        (TrackingStatus.IN_TRANSIT, f"【{hub}】已发出，下一站【{city}转运中心】", hub),
        (TrackingStatus.IN_TRANSIT, f"【{city}转运中心】已到达", f"{city}转运中心"),
        (
            TrackingStatus.OUT_FOR_DELIVERY,
            f"【{order.district}营业部】派件员{plan.courier}（{plan.courier_phone}）正在派件",
            f"{city}{order.district}",
        ),
        (
            TrackingStatus.DELIVERED,
            f"【{order.district}】已签收，签收人：{plan.signer}",
            f"{city}{order.district}",
        ),
    ]
    for (status, description, location), hours in zip(
        scans[: plan.scans], plan.gaps["scans"], strict=False
    ):
        if (
            status != TrackingStatus.DELIVERED
            and timeline.peek(hours) > timeline.latest
        ):
            break  # a parcel still on its way: the later scans have not happened yet
        occurred_at = timeline.advance(hours)
        tracking_event_record(
            shipment=shipment,
            status=status,
            description=description,
            actor="carrier:demo",
            occurred_at=occurred_at,
            location=location,
            source=TrackingEvent.Source.DEMO,
        )
        clock.stamp(occurred_at)


def _notifications_redate(order, clock) -> None:
    notifications = Notification.objects.filter(
        order=order, pk__gt=clock.start[Notification]
    )
    sent = {}
    for notification_id, created_at, status in notifications.values_list(
        "pk", "created_at", "status"
    ):
        if status == Notification.Status.SENT:
            sent[notification_id] = created_at + timedelta(seconds=3)
            Notification.objects.filter(pk=notification_id).update(
                sent_at=sent[notification_id]
            )
    for event in OrderEvent.objects.filter(
        order=order, kind=OrderEvent.Kind.NOTIFICATION, pk__gt=clock.start[OrderEvent]
    ):
        when = sent.get(event.data.get("notification"))
        if when:
            OrderEvent.objects.filter(pk=event.pk).update(created_at=when)


def demo_seed(
    *, orders=DEFAULT_ORDERS, reset_passwords=False, progress=None, now=None
) -> SeedReport:
    """Create (or complete) the demo shop; return what was created."""
    now = now or timezone.now()
    report = SeedReport()
    reference_seed(report)
    users = staff_seed(report, reset_passwords=reset_passwords)
    products = catalogue_seed(report, received_at=now - timedelta(days=31))
    pricing_seed(report, products=products, now=now)
    shipping_seed(report)
    orders_seed(
        report,
        plans=order_plans(orders),
        products=products,
        users=users,
        now=now,
        progress=progress,
    )
    ship_by_redate()
    returns_seed(users=users)
    return report


def returns_seed(*, users) -> None:
    """Open two returns on delivered demo orders (one waiting, one approved), once."""
    from fulfillment.models import ReturnRequest
    from fulfillment.returns import return_approve, return_request_create

    if ReturnRequest.objects.filter(
        order__external_id__startswith=DEMO_PREFIX
    ).exists():
        return
    delivered = Order.objects.filter(
        status=S.DELIVERED, external_id__startswith=DEMO_PREFIX
    ).order_by("number")[:2]
    reasons = (ReturnRequest.Reason.CHANGED_MIND, ReturnRequest.Reason.DAMAGED)
    for i, order in enumerate(delivered):
        line = order.lines.order_by("id").first()
        rma = return_request_create(
            order=order,
            lines=[(line, 1)],
            reason=reasons[i],
            description="七天无理由退货" if i == 0 else "外包装压坏，瓶身有裂痕",
            actor="customer",
        )
        if i == 1:
            return_approve(return_request=rma, actor=users["service"])


def status_counts() -> dict[str, int]:
    """Return how many orders each status holds, in lifecycle order."""
    counts = Counter(Order.objects.values_list("status", flat=True))
    return {status: counts.get(status, 0) for status in S.values}

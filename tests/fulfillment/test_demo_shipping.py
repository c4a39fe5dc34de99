"""The demo shop's carriers come with services, accounts, regions and rate tables."""

from decimal import Decimal

from fulfillment.carriers import carrier_choose
from fulfillment.models import CarrierAccount, CarrierService, ChannelShipping
from orders.demo import SeedReport, reference_seed, shipping_seed
from orders.models import Channel, Order, ShippingRule
from orders.pricing import carrier_rate

BIG_EIGHT = {"sf", "zto", "yto", "yunda", "sto", "jd", "ems", "jtexpress"}


def test_the_demo_seeds_shipping_for_the_big_eight_carriers_once(db):
    report = SeedReport()
    reference_seed(report)
    shipping_seed(report)
    shipping_seed(SeedReport())  # a second run changes nothing

    with_services = set(
        CarrierService.objects.values_list("carrier__code", flat=True).distinct()
    )
    assert with_services == BIG_EIGHT
    assert CarrierAccount.objects.count() == 8
    rated = set(
        ShippingRule.objects.filter(carrier__isnull=False).values_list(
            "carrier__code", flat=True
        )
    )
    assert rated == BIG_EIGHT
    assert ChannelShipping.objects.get(channel__code="jd").ship_within_hours == 24
    assert report.created["channel shipping policies"] == Channel.objects.count()


def test_demo_rates_make_zto_cheapest_to_zhejiang_and_sf_the_cod_carrier(db):
    reference_seed(SeedReport())
    shipping_seed(SeedReport())
    zto = ShippingRule.objects.filter(carrier__code="zto").first().carrier
    assert carrier_rate(
        carrier_id=zto.pk, province="浙江省", weight_kg=Decimal("1.5")
    ) == (Decimal("4.50"))
    web = Channel.objects.get(code="web")
    order = Order(
        channel=web, province="浙江省", payment_method=Order.PaymentMethod.COD
    )
    order.pk = None
    choice = carrier_choose(order, weight_kg=Decimal("1"))
    # COD: only SF, JD, EMS (and the demo carrier, which has no rates) collect cash.
    assert choice.carrier.code == "jd"

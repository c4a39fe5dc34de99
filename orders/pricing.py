"""Order pricing: price lists, promotions, coupons, shipping fee rules and tax.

What an order costs, and the record of why (``Order.price_explanation``):

1. Unit price per line: a price the caller gave (a marketplace's price, a clerk's
   override), else the channel's price valid when the order is placed
   (``ChannelPrice``, the latest ``valid_from`` wins), else the catalogue price
   (``Product.price``, kept as the line's ``list_price``).
2. Promotions, highest ``priority`` first (ties: oldest first). A promotion applies
   to the lines of its products/categories (none named: every line), on its channels
   (none named: every channel), inside its validity window; a coupon promotion only
   with one of its codes. An exclusive (not stackable) promotion applies only when no
   other promotion has applied, and stops every promotion after it.
   - percentage off and buy X get Y are *line* discounts (``OrderLine.discount``);
   - fixed amount off and 满X减Y are *order* discounts on the lines they cover,
     spread over those lines (``OrderLine.order_discount_share``);
   - free shipping waives the shipping fee when the goods it covers reach its
     threshold.
   Each promotion sees the amounts left after the ones before it.
3. Shipping: a fee the channel or clerk set (> 0) is kept. Otherwise the best
   matching ``ShippingRule`` (the order's carrier, else the default rule without a
   carrier; a rule naming the destination province before a rule for everywhere):
   首重 fee for the first weight, 续重 fee per started additional step, a surcharge
   for remote provinces; the base fee (not the remote surcharge) is waived when the
   goods after discounts reach ``free_over``. No rule: the fee as given (0).
4. Tax (VAT) per line on its amount after discounts, at the ``TaxRule`` of the
   product's category (else the rule without a category) effective when the order
   is placed. Shipping is not taxed here. With ``SHOP_PRICES_INCLUDE_TAX`` (default
   True, as Chinese retail prices include VAT) the tax is the VAT contained in the
   prices — ``amount × rate / (1 + rate)`` — shown for information and *not* added to
   the total; otherwise it is ``amount × rate`` and added. ``Order.prices_include_tax``
   records which, and the database's ``order_total_adds_up`` follows it.

Rounding: amounts are rounded to 0.01 with ROUND_HALF_UP (``money``) at three
points only: a percentage discount per line; a promotion's order discount, which is
then spread over its lines by the largest-remainder method (each share rounded down
to the cent, the cents left over go one each to the lines with the largest
remainders, earlier lines first on ties), so the shares add up exactly; and the
order's tax, summed unrounded and rounded once, then spread over the lines the same
way. So the parts always add up:

    line_total     = unit_price × quantity − discount
    subtotal       = Σ unit_price × quantity
    discount_total = Σ discount + Σ order_discount_share (+ a platform's discount
                     beyond the goods, which reduced its shipping)
    total          = subtotal − discount_total + shipping_fee (+ tax_total if added)

Marketplace orders keep the platform's prices, discount and shipping; our own price
for the same goods is worked out too and recorded under ``"own_price"`` with the
difference, not applied.

Rules are read once into an in-process snapshot, checked against one cheap version
query per order (row counts, highest ids and last changes of the rule tables), so
intake costs one query for pricing rules plus one for a coupon when a code is given.
"""

import threading
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db import connection
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from orders.events import order_event_record
from orders.exceptions import OrderError
from orders.models import (
    Channel,
    ChannelPrice,
    Coupon,
    CouponRedemption,
    Order,
    OrderEvent,
    Promotion,
    ShippingRule,
    TaxRule,
)

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
K = Promotion.Kind


def money(value) -> Decimal:
    """Return the amount rounded to the cent, half up."""
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def spread(amount: Decimal, weights: list[Decimal]) -> list[Decimal]:
    """Return ``amount`` split in proportion to ``weights``, to the cent, adding up exactly.

    Largest remainder: every share is rounded down, then the cents left over go one
    each to the largest remainders (the earlier line first on a tie).
    """
    cents = int((amount / CENT).to_integral_value(rounding=ROUND_HALF_UP))
    total = sum(weights, Decimal("0"))
    if not weights or total <= 0 or cents == 0:
        return [ZERO for _w in weights]
    exact = [Decimal(cents) * w / total for w in weights]
    floors = [int(x.to_integral_value(rounding=ROUND_DOWN)) for x in exact]
    left = cents - sum(floors)
    order = sorted(range(len(weights)), key=lambda i: (-(exact[i] - floors[i]), i))
    for i in order[:left]:
        floors[i] += 1
    return [Decimal(c) * CENT for c in floors]


# --- The rules snapshot ------------------------------------------------------------


@dataclass(frozen=True)
class PromotionRule:
    promotion: Promotion
    channel_ids: frozenset
    product_ids: frozenset
    categories: frozenset

    def covers(self, product) -> bool:
        if not self.product_ids and not self.categories:
            return True
        return product.pk in self.product_ids or product.category in self.categories


@dataclass(frozen=True)
class Rules:
    channel_prices: dict  # (channel_id, product_id) → [ChannelPrice]
    promotions: list  # [PromotionRule], in the order they apply
    shipping: list  # [ShippingRule]
    taxes: list  # [TaxRule], newest first


_SNAPSHOT_TABLES = (ChannelPrice, Promotion, ShippingRule, TaxRule)
_snapshot: dict = {}
_snapshot_lock = threading.Lock()


def _rules_version() -> tuple:
    parts = []
    for model in _SNAPSHOT_TABLES:
        table = connection.ops.quote_name(model._meta.db_table)
        parts.append(
            f"(SELECT COUNT(*) FROM {table}), (SELECT MAX(id) FROM {table}), "
            f"(SELECT MAX(updated_at) FROM {table})"
        )
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(parts))
        return (connection.alias, *(str(v) for v in cursor.fetchone()))


def _rules_load() -> Rules:
    prices: dict = {}
    for row in ChannelPrice.objects.order_by("-valid_from", "-id"):
        prices.setdefault((row.channel_id, row.product_id), []).append(row)
    promotions = [
        PromotionRule(
            promotion=p,
            channel_ids=frozenset(c.pk for c in p.channels.all()),
            product_ids=frozenset(x.pk for x in p.products.all()),
            categories=frozenset(p.categories or []),
        )
        for p in Promotion.objects.filter(active=True)
        .prefetch_related("channels", "products")
        .order_by("-priority", "id")
    ]
    shipping = list(
        ShippingRule.objects.filter(active=True).order_by("-priority", "id")
    )
    taxes = list(TaxRule.objects.order_by("-effective_from", "-id"))
    return Rules(prices, promotions, shipping, taxes)


def rules_current() -> Rules:
    """Return the pricing rules, reloaded only when a rule table changed."""
    version = _rules_version()
    with _snapshot_lock:
        if _snapshot.get("version") == version:
            return _snapshot["rules"]
    rules = _rules_load()
    with _snapshot_lock:
        _snapshot.update(version=version, rules=rules)
    return rules


def rules_forget():
    """Drop the snapshot (tests; a deploy that edits rules with raw SQL)."""
    with _snapshot_lock:
        _snapshot.clear()


# --- Quoting -----------------------------------------------------------------------


@dataclass
class PriceLine:
    product: object  # inventory.Product
    quantity: int
    unit_price: Decimal | None = None  # given by the caller


@dataclass
class LineQuote:
    product: object
    quantity: int
    list_price: Decimal
    unit_price: Decimal
    price_source: str
    discount: Decimal = ZERO
    share: Decimal = ZERO
    tax: Decimal = ZERO

    @property
    def gross(self) -> Decimal:
        return self.unit_price * self.quantity

    @property
    def line_total(self) -> Decimal:
        return self.gross - self.discount

    @property
    def net(self) -> Decimal:
        return self.gross - self.discount - self.share


@dataclass
class Quote:
    lines: list[LineQuote]
    shipping_fee: Decimal
    tax_total: Decimal
    prices_include_tax: bool
    extra_discount: Decimal = ZERO  # a platform's discount beyond the goods
    coupon: Coupon | None = None
    explanation: dict = field(default_factory=dict)

    @property
    def subtotal(self) -> Decimal:
        return sum((li.gross for li in self.lines), ZERO)

    @property
    def discount_total(self) -> Decimal:
        return (
            sum((li.discount + li.share for li in self.lines), ZERO)
            + self.extra_discount
        )

    @property
    def total(self) -> Decimal:
        total = self.subtotal - self.discount_total + self.shipping_fee
        return total if self.prices_include_tax else total + self.tax_total


def _valid(row, at) -> bool:
    return (row.valid_from is None or row.valid_from <= at) and (
        row.valid_until is None or at < row.valid_until
    )


def _unit_price(rules, channel, line, at) -> tuple[Decimal, str]:
    if line.unit_price is not None:
        return line.unit_price, "given"
    for row in rules.channel_prices.get((channel.pk, line.product.pk), ()):
        if _valid(row, at):
            return row.price, "channel_price"
    return line.product.price, "catalogue"


def _coupon_find(code: str, customer) -> Coupon:
    coupon = Coupon.objects.filter(code__iexact=code).first()
    if coupon is None or not coupon.active:
        raise OrderError(_("Unknown coupon code: %(code)s") % {"code": code})
    if coupon.usage_limit is not None and coupon.times_used >= coupon.usage_limit:
        raise OrderError(_("Coupon %(code)s has been used up.") % {"code": code})
    if (
        coupon.per_customer_limit is not None
        and customer is not None
        and customer.pk is not None
        and CouponRedemption.objects.filter(coupon=coupon, customer=customer).count()
        >= coupon.per_customer_limit
    ):
        raise OrderError(
            _("Coupon %(code)s was already used as often as allowed.") % {"code": code}
        )
    return coupon


def _s(value: Decimal) -> str:
    return str(money(value))


def _apply_promotions(rules, lines, channel, at, coupon) -> tuple[list, object]:
    """Apply the promotions to the lines; return what applied and a free-shipping one."""
    applied, free_shipping = [], None
    any_applied = False
    for rule in rules.promotions:
        promo = rule.promotion
        if not _valid(promo, at):
            continue
        if rule.channel_ids and channel.pk not in rule.channel_ids:
            continue
        if promo.requires_coupon and (
            coupon is None or coupon.promotion_id != promo.pk
        ):
            continue
        if not promo.stackable and any_applied:
            continue
        covered = [li for li in lines if rule.covers(li.product) and li.net > 0]
        if not covered:
            continue
        base = sum((li.net for li in covered), ZERO)
        per_line: dict[str, Decimal] = {}
        amount = ZERO
        if promo.kind == K.PERCENT_OFF:
            for li in covered:
                d = min(money(li.net * promo.percent / 100), li.net)
                li.discount += d
                per_line[li.product.sku] = d
        elif promo.kind == K.BUY_X_GET_Y:
            bundle = promo.buy_quantity + promo.get_quantity
            for li in covered:
                free = li.quantity // bundle * promo.get_quantity
                d = min(li.unit_price * free, li.net)
                if d:
                    li.discount += d
                    per_line[li.product.sku] = d
        elif promo.kind in (K.AMOUNT_OFF, K.THRESHOLD):
            if promo.threshold and base < promo.threshold:
                continue
            times = 1
            if promo.kind == K.THRESHOLD and promo.repeatable and promo.threshold:
                times = int(base // promo.threshold)
            amount = min(money(promo.amount * times), base)
            shares = spread(amount, [li.net for li in covered])
            for li, share in zip(covered, shares, strict=True):
                li.share += share
                if share:
                    per_line[li.product.sku] = share
        elif promo.kind == K.FREE_SHIPPING:
            if promo.threshold and base < promo.threshold:
                continue
            free_shipping = promo
        amount = amount or sum(per_line.values(), ZERO)
        if promo.kind != K.FREE_SHIPPING and not amount:
            continue
        any_applied = True
        applied.append(
            {
                "id": promo.pk,
                "name": promo.name,
                "kind": promo.kind,
                "amount": _s(amount),
                "coupon": coupon.code if promo.requires_coupon else "",
                "lines": {sku: _s(v) for sku, v in per_line.items()},
            }
        )
        if not promo.stackable:
            break
    return applied, free_shipping


def _province_in(province: str, names) -> bool:
    return any(
        name and province and (province.startswith(name) or name.startswith(province))
        for name in names
    )


def _shipping_rule(rules, province, carrier_id):
    for wanted in [carrier_id, None] if carrier_id else [None]:
        candidates = [r for r in rules.shipping if r.carrier_id == wanted]
        for rule in candidates:
            if rule.provinces and _province_in(province, rule.provinces):
                return rule
        for rule in candidates:
            if not rule.provinces:
                return rule
    return None


def _weight_fee(rule, weight) -> tuple[Decimal, int]:
    """Return the 首重 + 续重 fee for the weight, and how many additional steps it took."""
    fee = rule.first_fee
    steps = 0
    if weight > rule.first_weight_kg:
        steps = int(
            (
                (weight - rule.first_weight_kg) / rule.additional_weight_kg
            ).to_integral_value(rounding=ROUND_CEILING)
        )
        fee += rule.additional_fee * steps
    return fee, steps


def carrier_rate(
    *, carrier_id: int, province: str, weight_kg: Decimal
) -> Decimal | None:
    """Return what the carrier's own rate table charges for the weight to the province.

    A carrier's rate table is its ``ShippingRule`` rows (the default rules are what
    customers are charged, not a carrier's price). None: the carrier has no rate for
    the province. Free-shipping thresholds are the customer's, so they do not apply.
    """
    rule = None
    for candidate in rules_current().shipping:
        if candidate.carrier_id != carrier_id:
            continue
        if candidate.provinces and _province_in(province, candidate.provinces):
            rule = candidate
            break
        if not candidate.provinces and rule is None:
            rule = candidate
    if rule is None:
        return None
    fee, _steps = _weight_fee(rule, weight_kg)
    if rule.remote_surcharge and _province_in(province, rule.remote_provinces):
        fee += rule.remote_surcharge
    return money(fee)


def _shipping(rules, lines, province, given, carrier_id) -> tuple[Decimal, dict]:
    if given > 0:
        return given, {"source": "given", "fee": _s(given)}
    rule = _shipping_rule(rules, province, carrier_id)
    if rule is None:
        return given, {"source": "given", "fee": _s(given)}
    weight = sum((li.product.weight_kg * li.quantity for li in lines), Decimal("0"))
    fee, steps = _weight_fee(rule, weight)
    goods = sum((li.net for li in lines), ZERO)
    free = rule.free_over is not None and goods >= rule.free_over
    if free:
        fee = ZERO
    surcharge = (
        rule.remote_surcharge
        if rule.remote_surcharge and _province_in(province, rule.remote_provinces)
        else ZERO
    )
    fee = money(fee + surcharge)
    return fee, {
        "source": "rule",
        "rule_id": rule.pk,
        "rule": rule.name,
        "weight_kg": str(weight),
        "first_fee": _s(rule.first_fee),
        "additional_steps": steps,
        "additional_fee": _s(rule.additional_fee),
        "free_over": None if rule.free_over is None else _s(rule.free_over),
        "free": free,
        "remote_surcharge": _s(surcharge),
        "fee": _s(fee),
    }


def _tax_rate(rules, category, at):
    for wanted in (category, ""):
        for rule in rules.taxes:
            if rule.category == wanted and rule.effective_from <= at:
                return rule
        if not wanted:
            break
    return None


def _tax(rules, lines, at, included) -> tuple[Decimal, dict]:
    exact, used = [], {}
    for li in lines:
        rule = _tax_rate(rules, li.product.category, at)
        if rule is None:
            exact.append(Decimal("0"))
            continue
        used[rule.pk] = rule
        if included:
            exact.append(li.net * rule.rate / (1 + rule.rate))
        else:
            exact.append(li.net * rule.rate)
    total = money(sum(exact, Decimal("0")))
    for li, share in zip(lines, spread(total, exact), strict=True):
        li.tax = share
    return total, {
        "included": included,
        "amount": _s(total),
        "rules": [
            {
                "id": r.pk,
                "name": r.name,
                "category": r.category,
                "rate": str(r.rate),
                "effective_from": r.effective_from.isoformat(),
            }
            for r in used.values()
        ],
    }


def _explain_lines(lines) -> list[dict]:
    return [
        {
            "sku": li.product.sku,
            "quantity": li.quantity,
            "list_price": _s(li.list_price),
            "unit_price": _s(li.unit_price),
            "price_source": li.price_source,
            "discount": _s(li.discount),
            "order_discount_share": _s(li.share),
            "net": _s(li.net),
            "tax": _s(li.tax),
        }
        for li in lines
    ]


def _totals(quote: Quote) -> dict:
    return {
        "subtotal": _s(quote.subtotal),
        "discount_total": _s(quote.discount_total),
        "shipping_fee": _s(quote.shipping_fee),
        "tax_total": _s(quote.tax_total),
        "total": _s(quote.total),
    }


def order_price(
    *,
    channel: Channel,
    customer,
    lines: list[PriceLine],
    province: str = "",
    placed_at,
    coupon_code: str = "",
    shipping_fee: Decimal = ZERO,
    platform_discount: Decimal = ZERO,
    carrier_id: int | None = None,
    rules: Rules | None = None,
) -> Quote:
    """Return the priced order: lines, discounts, shipping, tax, and why.

    A marketplace order (or any order that comes with the channel's own discount)
    keeps the channel's prices; our own quote is recorded beside it. ``rules``: a
    snapshot a batch of orders shares (default: the current rules).
    """
    rules = rules or rules_current()
    priced_by_channel = channel.kind == Channel.Kind.MARKETPLACE or platform_discount
    if priced_by_channel:
        return _platform_quote(
            rules,
            channel=channel,
            customer=customer,
            lines=lines,
            province=province,
            at=placed_at,
            given_fee=shipping_fee,
            discount=platform_discount,
        )
    return _own_quote(
        rules,
        channel=channel,
        customer=customer,
        lines=lines,
        province=province,
        at=placed_at,
        coupon_code=coupon_code,
        given_fee=shipping_fee,
        carrier_id=carrier_id,
    )


def _line_quotes(rules, channel, lines, at) -> list[LineQuote]:
    quotes = []
    for line in lines:
        price, source = _unit_price(rules, channel, line, at)
        quotes.append(
            LineQuote(
                product=line.product,
                quantity=line.quantity,
                list_price=line.product.price,
                unit_price=price,
                price_source=source,
            )
        )
    return quotes


def _prices_include_tax() -> bool:
    return settings.SHOP_PRICES_INCLUDE_TAX


def _own_quote(
    rules, *, channel, customer, lines, province, at, coupon_code, given_fee, carrier_id
) -> Quote:
    coupon = _coupon_find(coupon_code, customer) if coupon_code else None
    quotes = _line_quotes(rules, channel, lines, at)
    applied, free_promo = _apply_promotions(rules, quotes, channel, at, coupon)
    if coupon is not None and not any(a["coupon"] for a in applied):
        raise OrderError(
            _("Coupon %(code)s does not apply to this order.") % {"code": coupon.code}
        )
    fee, shipping = _shipping(rules, quotes, province, given_fee, carrier_id)
    if free_promo is not None and fee:
        shipping.update(waived=_s(fee), waived_by=free_promo.name, fee=_s(ZERO))
        fee = ZERO
    included = _prices_include_tax()
    tax, tax_info = _tax(rules, quotes, at, included)
    quote = Quote(
        lines=quotes,
        shipping_fee=fee,
        tax_total=tax,
        prices_include_tax=included,
        coupon=coupon,
    )
    quote.explanation = {
        "rounding": "ROUND_HALF_UP 0.01; order discounts spread by largest remainder",
        "lines": _explain_lines(quotes),
        "promotions": applied,
        "shipping": shipping,
        "tax": tax_info,
        "coupon": {"id": coupon.pk, "code": coupon.code} if coupon else None,
        "totals": _totals(quote),
    }
    return quote


def _platform_quote(
    rules, *, channel, customer, lines, province, at, given_fee, discount
) -> Quote:
    quotes = _line_quotes(rules, channel, lines, at)
    goods = sum((li.gross for li in quotes), ZERO)
    if not ZERO <= discount <= goods + given_fee:
        raise OrderError(_("The discount is larger than the order."))
    on_goods = min(discount, goods)
    for li, share in zip(
        quotes, spread(on_goods, [li.gross for li in quotes]), strict=True
    ):
        li.share = share
    tax, tax_info = _tax(rules, quotes, at, True)
    quote = Quote(
        lines=quotes,
        shipping_fee=given_fee,
        tax_total=tax,
        prices_include_tax=True,
        extra_discount=discount - on_goods,
    )
    own = _own_quote(
        rules,
        channel=channel,
        customer=customer,
        lines=[PriceLine(li.product, li.quantity) for li in quotes],
        province=province,
        at=at,
        coupon_code="",
        given_fee=ZERO,
        carrier_id=None,
    )
    quote.explanation = {
        "rounding": "ROUND_HALF_UP 0.01; order discounts spread by largest remainder",
        "priced_by_channel": True,
        "lines": _explain_lines(quotes),
        "promotions": [
            {
                "id": None,
                "name": _("Platform discount"),
                "kind": "platform",
                "amount": _s(discount),
                "coupon": "",
                "lines": {li.product.sku: _s(li.share) for li in quotes if li.share},
            }
        ]
        if discount
        else [],
        "shipping": {"source": "given", "fee": _s(given_fee)},
        "tax": tax_info,
        "coupon": None,
        "totals": _totals(quote),
        "own_price": {
            **own.explanation["totals"],
            "promotions": own.explanation["promotions"],
            "shipping": own.explanation["shipping"],
            "difference": _s(quote.total - own.total),
        },
    }
    return quote


def coupon_redeem(*, order: Order):
    """Count the order's coupon use; refuse it when the code or the customer is out of uses.

    The coupon row is locked, so concurrent orders with one code are counted one at a
    time and never pass the limits.
    """
    info = (order.price_explanation or {}).get("coupon")
    if not info:
        return None
    coupon = Coupon.objects.select_for_update().get(pk=info["id"])
    if coupon.usage_limit is not None and coupon.times_used >= coupon.usage_limit:
        raise OrderError(_("Coupon %(code)s has been used up.") % {"code": coupon.code})
    if (
        coupon.per_customer_limit is not None
        and CouponRedemption.objects.filter(
            coupon=coupon, customer_id=order.customer_id
        ).count()
        >= coupon.per_customer_limit
    ):
        raise OrderError(
            _("Coupon %(code)s was already used as often as allowed.")
            % {"code": coupon.code}
        )
    amount = sum(
        (
            Decimal(a["amount"])
            for a in order.price_explanation.get("promotions", [])
            if a.get("coupon")
        ),
        ZERO,
    )
    Coupon.objects.filter(pk=coupon.pk).update(times_used=F("times_used") + 1)
    return CouponRedemption.objects.create(
        coupon=coupon, order=order, customer_id=order.customer_id, amount=amount
    )


def coupon_release(*, order: Order):
    """Give a cancelled order's coupon uses back, so the customer can use the code again."""
    redemptions = list(
        CouponRedemption.objects.filter(order=order).values_list("pk", "coupon_id")
    )
    for pk, coupon_id in sorted(redemptions):
        Coupon.objects.select_for_update().filter(pk=coupon_id).update(
            times_used=F("times_used") - 1
        )
        CouponRedemption.objects.filter(pk=pk).delete()


# --- Re-pricing after the destination changed ----------------------------------------

# Payment states in which nothing has been charged yet: a new total simply applies
# (cash on delivery is collected at the door, so the courier collects the new one).
_NOT_CHARGED = (Order.PaymentStatus.UNPAID, Order.PaymentStatus.COD_PENDING)


def _stored_quotes(order) -> list[LineQuote]:
    """Return the order's lines as priced when it was placed (prices and discounts kept)."""
    return [
        LineQuote(
            product=line.product,
            quantity=line.quantity,
            list_price=line.list_price,
            unit_price=line.unit_price,
            price_source="",
            discount=line.discount,
            share=line.order_discount_share,
        )
        for line in order.lines.select_related("product")
    ]


def _own_price_entry(own: Quote, platform_total: Decimal) -> dict:
    return {
        **own.explanation["totals"],
        "promotions": own.explanation["promotions"],
        "shipping": own.explanation["shipping"],
        "difference": _s(platform_total - own.total),
    }


def order_shipping_reprice(*, order: Order, province_from: str, actor) -> dict | None:
    """Work the shipping fee out again for the order's new province; return what was recorded.

    Called by ``order_correct`` inside its transaction, with the order locked. Only
    shipping depends on the destination (tax is on the goods), so prices, discounts
    and the coupon stay as they were when the order was placed, and the fee comes
    from the shipping rules in force now. A fee given with the order (a clerk's or a
    channel's) is kept. Then:

    - nothing charged yet (unpaid, or cash on delivery to collect): the new fee and
      total are applied;
    - paid: what was charged does not change; the difference is recorded for staff
      to collect or refund;
    - priced by a marketplace: its prices stay; our own price for the new province
      and the difference to the platform's are recorded.

    Each case writes a ``repricing`` entry into ``price_explanation`` and an event on
    the timeline. Returns the entry, or None when the fee came out the same (or the
    order has no explanation to redo).
    """
    why = dict(order.price_explanation or {})
    if not why.get("lines"):
        return None
    rules = rules_current()
    entry = {
        "at": timezone.now().isoformat(),
        "province_from": province_from,
        "province_to": order.province,
    }
    if why.get("priced_by_channel"):
        own = _own_quote(
            rules,
            channel=order.channel,
            customer=order.customer,
            lines=[PriceLine(q.product, q.quantity) for q in _stored_quotes(order)],
            province=order.province,
            at=order.placed_at,
            coupon_code="",
            given_fee=ZERO,
            carrier_id=None,
        )
        before = (why.get("own_price") or {}).get("total")
        if before is not None and Decimal(before) == money(own.total):
            return None
        why["own_price"] = _own_price_entry(own, order.total)
        entry.update(
            shipping_fee_from=_s(order.shipping_fee),
            shipping_fee_to=_s(order.shipping_fee),
            total_from=_s(order.total),
            total_to=_s(order.total),
            difference=why["own_price"]["difference"],
            applied=False,
            held_because="priced_by_channel",
        )
        message = _(
            "New province %(province)s: the platform's price is kept; our own price "
            "would be %(own)s (difference %(difference)s, recorded, not applied)."
        ) % {
            "province": order.province,
            "own": _s(own.total),
            "difference": entry["difference"],
        }
    else:
        old = why.get("shipping") or {}
        given = Decimal(old["fee"]) if old.get("source") == "given" else ZERO
        if given > 0:
            return None  # a fee someone set by hand is theirs to change
        quotes = _stored_quotes(order)
        fee, shipping = _shipping(rules, quotes, order.province, ZERO, None)
        free = next(
            (p for p in why.get("promotions", []) if p["kind"] == K.FREE_SHIPPING),
            None,
        )
        if free is not None and fee:
            shipping.update(waived=_s(fee), waived_by=free["name"], fee=_s(ZERO))
            fee = ZERO
        if fee == order.shipping_fee:
            return None
        new_total = order.total - order.shipping_fee + fee
        entry.update(
            shipping_fee_from=_s(order.shipping_fee),
            shipping_fee_to=_s(fee),
            total_from=_s(order.total),
            total_to=_s(new_total),
            difference=_s(fee - order.shipping_fee),
            applied=order.payment_status in _NOT_CHARGED,
            held_because="" if order.payment_status in _NOT_CHARGED else "paid",
        )
        if entry["applied"]:
            order.shipping_fee, order.total = fee, new_total
            why["shipping"] = shipping
            why["totals"] = {
                **why.get("totals", {}),
                "shipping_fee": _s(fee),
                "total": _s(new_total),
            }
            message = _(
                "Shipping recalculated for %(province)s: %(old_fee)s → %(fee)s; "
                "total %(old_total)s → %(total)s."
            )
        else:
            message = _(
                "Shipping to %(province)s would cost %(fee)s instead of "
                "%(old_fee)s, but the order is paid: the charge stays %(old_total)s. "
                "Difference for staff to settle: %(difference)s."
            )
        message = message % {
            "province": order.province,
            "old_fee": entry["shipping_fee_from"],
            "fee": entry["shipping_fee_to"],
            "old_total": entry["total_from"],
            "total": entry["total_to"],
            "difference": entry["difference"],
        }
    why["repricing"] = [*why.get("repricing", []), entry]
    order.price_explanation = why
    order.save(
        update_fields=["shipping_fee", "total", "price_explanation", "updated_at"]
    )
    order_event_record(
        order=order,
        kind=OrderEvent.Kind.CORRECTION,
        actor=actor,
        message=message,
        data={"repricing": entry},
    )
    return entry


# --- Totals after lines changed (backorder choices) -----------------------------------


def order_totals_recompute(*, order: Order) -> Decimal:
    """Work the totals out again from the order's lines as they are now; return the old total.

    For a backorder's cancelled or substituted lines: each remaining line keeps its
    price, line discount and share of the order discounts (a cancelled line's share
    goes with it); tax is worked out again on the remaining goods at the rules in
    force when the order was placed; shipping stays. The explanation's lines, tax
    and totals follow, so the parts still add up to the total.
    """
    old_total = order.total
    why = dict(order.price_explanation or {})
    quotes = _stored_quotes(order)
    # A platform's discount beyond the goods (it reduced the shipping) stays whole.
    extra = Decimal(why.get("totals", {}).get("discount_total", "0") or "0") - sum(
        (
            Decimal(li["discount"]) + Decimal(li["order_discount_share"])
            for li in why.get("lines", [])
        ),
        ZERO,
    )
    quote = Quote(
        lines=quotes,
        shipping_fee=order.shipping_fee,
        tax_total=ZERO,
        prices_include_tax=order.prices_include_tax,
        extra_discount=max(extra, ZERO),
    )
    quote.tax_total, tax_info = _tax(
        rules_current(), quotes, order.placed_at, order.prices_include_tax
    )
    order.subtotal = quote.subtotal
    order.discount_total = min(
        quote.discount_total, quote.subtotal + order.shipping_fee
    )
    order.tax_total = quote.tax_total
    order.total = order.subtotal - order.discount_total + order.shipping_fee
    if not order.prices_include_tax:
        order.total += order.tax_total
    if why.get("lines"):
        why.update(lines=_explain_lines(quotes), tax=tax_info, totals=_totals(quote))
        why["totals"].update(
            discount_total=_s(order.discount_total), total=_s(order.total)
        )
        order.price_explanation = why
    order.save(
        update_fields=[
            "subtotal",
            "discount_total",
            "tax_total",
            "total",
            "price_explanation",
            "updated_at",
        ]
    )
    return old_total

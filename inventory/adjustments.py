"""Stock adjustments sent by an outside warehouse system, applied once per reference.

The system names each adjustment with its own reference; a retried request (a
timeout, a lost answer) gets the first answer back and changes nothing. The change
itself goes through ``stock_adjust`` (a change in units) or ``stocktake_post`` (a
counted quantity), so the movement records who (the key's staff user) and why, and
the same rules hold as in the console: never below the units reserved for orders.
"""

import hashlib
import json
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from inventory.exceptions import StockError
from inventory.models import StockAdjustmentReceipt, StockLevel, StockMovement
from inventory.services import stock_adjust, stocktake_post


class AdjustmentConflict(StockError):
    """The reference was used before for another adjustment; nothing changed."""

    def __init__(self, receipt: StockAdjustmentReceipt):
        self.receipt = receipt
        super().__init__(
            _(
                "Reference %(reference)s was already used for another adjustment; "
                "nothing was changed."
            )
            % {"reference": receipt.reference}
        )


@dataclass(frozen=True)
class AdjustmentResult:
    receipt: StockAdjustmentReceipt
    replayed: bool


def _fingerprint(*, product, warehouse, delta, counted, reason) -> str:
    asked = [product.sku, warehouse.code, delta, counted, reason]
    return hashlib.sha256(json.dumps(asked, ensure_ascii=False).encode()).hexdigest()


@transaction.atomic
def stock_adjustment_apply(
    *,
    user,
    reference: str,
    product,
    warehouse,
    reason: str,
    delta: int | None = None,
    counted: int | None = None,
) -> AdjustmentResult:
    """Apply a change in units (``delta``) or a counted quantity once per (user, reference).

    The receipt row is inserted first: a second request with the same reference
    waits on the unique constraint until the first commits, then answers as a
    replay. A refused change (below the reserved units) rolls the receipt back too,
    so the same reference can be sent again once the stock allows it.
    """
    if (delta is None) == (counted is None):
        raise StockError(_("Give either a change in units or a counted quantity."))
    reference = (reference or "").strip()
    if not reference:
        raise StockError(
            _("Give the adjustment a reference, so a retry is recognised.")
        )
    fingerprint = _fingerprint(
        product=product,
        warehouse=warehouse,
        delta=delta,
        counted=counted,
        reason=reason,
    )
    try:
        with transaction.atomic():
            receipt = StockAdjustmentReceipt.objects.create(
                user=user,
                reference=reference[:100],
                fingerprint=fingerprint,
                product=product,
                warehouse=warehouse,
                on_hand=0,
            )
    except IntegrityError:
        earlier = StockAdjustmentReceipt.objects.select_related(
            "product", "warehouse"
        ).get(user=user, reference=reference[:100])
        if earlier.fingerprint != fingerprint:
            raise AdjustmentConflict(earlier) from None
        return AdjustmentResult(receipt=earlier, replayed=True)
    if delta is not None:
        stock_adjust(
            product=product,
            warehouse=warehouse,
            delta=delta,
            reason=reason,
            reference=reference,
            actor=user,
        )
        # The stock row stays locked until commit: the latest movement is ours.
        receipt.movement = StockMovement.objects.filter(
            product=product, warehouse=warehouse, kind=StockMovement.Kind.ADJUSTED
        ).latest("pk")
    else:
        movements = stocktake_post(
            warehouse=warehouse,
            counts={product: counted},
            reason=reason,
            reference=reference,
            actor=user,
        )
        receipt.movement = movements[0] if movements else None
    receipt.on_hand_delta = receipt.movement.on_hand_delta if receipt.movement else 0
    receipt.on_hand = StockLevel.objects.get(
        product=product, warehouse=warehouse
    ).on_hand
    receipt.save(update_fields=["movement", "on_hand_delta", "on_hand"])
    return AdjustmentResult(receipt=receipt, replayed=False)

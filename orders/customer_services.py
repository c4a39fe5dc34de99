"""Writes for the customer pages: contact details, notes, merging two records of one person."""

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from orders.events import actor_fields, order_events_announce
from orders.exceptions import OrderError
from orders.models import Customer, CustomerNote, Order, OrderEvent
from orders.phones import phone_normalise

# Contact fields a merge copies to the kept record where it has none.
CONTACT_FIELDS = ("name", "phone", "email")


def _phone_taken(phone: str, *, customer: Customer) -> bool:
    return (
        bool(phone)
        and Customer.objects.filter(phone=phone).exclude(pk=customer.pk).exists()
    )


@transaction.atomic
def customer_update(
    *, customer: Customer, name: str, phone: str, email: str, actor: AbstractBaseUser
) -> Customer:
    """Change the customer's contact details; the phone is stored normalised, as orders match it."""
    phone = phone_normalise(phone) if phone else ""
    if _phone_taken(phone, customer=customer):
        raise OrderError(
            _(
                "Another customer has the phone %(phone)s: merge the two records instead."
            )
            % {"phone": phone}
        )
    new = {"name": name.strip(), "phone": phone, "email": email.strip()}
    changed = [
        f"{Customer._meta.get_field(field).verbose_name}: "
        f"{getattr(customer, field) or '—'} → {value or '—'}"
        for field, value in new.items()
        if getattr(customer, field) != value
    ]
    if not changed:
        return customer
    for field, value in new.items():
        setattr(customer, field, value)
    customer.full_clean(exclude=["phone"])
    customer.save(update_fields=list(new))
    # The page's notes keep the old details: the customer may still be known by them.
    CustomerNote.objects.create(
        customer=customer,
        text=_("Contact details changed: %(changes)s")
        % {"changes": "; ".join(changed)},
        author=actor,
    )
    return customer


def customer_note_add(
    *, customer: Customer, text: str, actor: AbstractBaseUser
) -> CustomerNote:
    """Write a staff note on the customer's page."""
    if not text.strip():
        raise OrderError(_("A note cannot be empty."))
    return CustomerNote.objects.create(
        customer=customer, text=text.strip(), author=actor
    )


@transaction.atomic
def customers_merge(
    *, keep: Customer, merge: Customer, actor: AbstractBaseUser
) -> Customer:
    """Move everything of ``merge`` to ``keep`` (the same person twice) and delete ``merge``.

    Every row pointing at a customer moves (found through the model's relations,
    so a table added later moves too); the kept record's empty contact fields are
    filled from the merged one; each moved order and the kept customer record who
    merged and when.
    """
    if keep.pk == merge.pk:
        raise OrderError(_("A customer cannot be merged into itself."))
    # Locked in pk order, as everywhere, so two merges of the same pair cannot deadlock.
    locked = {
        c.pk: c
        for c in Customer.objects.select_for_update()
        .filter(pk__in=[keep.pk, merge.pk])
        .order_by("pk")
    }
    if len(locked) != 2:
        raise OrderError(_("That customer no longer exists."))
    keep, merge = locked[keep.pk], locked[merge.pk]
    moved_orders = list(
        Order.objects.filter(customer=merge).values_list("pk", flat=True)
    )
    for relation in Customer._meta.related_objects:
        relation.related_model._base_manager.filter(
            **{relation.field.name: merge}
        ).update(**{relation.field.name: keep})
    filled = [f for f in CONTACT_FIELDS if not getattr(keep, f) and getattr(merge, f)]
    merged_label = str(merge)
    values = {f: getattr(merge, f) for f in filled}
    # The merged record goes first: its phone is unique and may move to the kept one.
    merge.delete()
    for name, value in values.items():
        setattr(keep, name, value)
    if filled:
        keep.save(update_fields=filled)
    now = timezone.now()
    message = _("Merged customer %(merged)s into %(kept)s.") % {
        "merged": merged_label,
        "kept": str(keep),
    }
    CustomerNote.objects.create(
        customer=keep,
        text=_("%(message)s %(count)s orders moved.")
        % {"message": message, "count": len(moved_orders)},
        author=actor,
        created_at=now,
    )
    events = OrderEvent.objects.bulk_create(
        OrderEvent(
            order_id=pk,
            kind=OrderEvent.Kind.NOTE,
            message=message,
            data={"merged_customer": merged_label, "customer": keep.pk},
            created_at=now,
            **actor_fields(actor),
        )
        for pk in moved_orders
    )
    if moved_orders:
        Order.objects.filter(pk__in=moved_orders).update(updated_at=now)
        order_events_announce(events)
    return keep

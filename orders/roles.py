"""Staff roles are Django groups; this keeps their permissions in step with the code."""

from django.contrib.auth.models import Group, Permission
from django.utils.translation import gettext_noop

# Group name (shown as is; Chinese first, as the shop's staff call them) → permissions.
ROLES: dict[str, list[str]] = {
    gettext_noop("管理员"): ["*"],
    gettext_noop("客服"): [
        "orders.view_order",
        "orders.add_order",
        "orders.add_importbatch",
        "orders.view_importbatch",
        "orders.change_order",
        "orders.cancel_order",
        "orders.view_customer",
        "orders.change_customer",
        "orders.merge_customer",
        "orders.view_channel",
        "inventory.view_product",
        "inventory.view_stocklevel",
        "fulfillment.view_shipment",
        "fulfillment.view_returnrequest",
        "fulfillment.add_returnrequest",
        "fulfillment.decide_return",
        "tracking.view_trackingevent",
        "tracking.add_trackingevent",
        "tracking.view_notification",
        "tracking.view_notificationtemplate",
        "tracking.add_notificationtemplate",
        "tracking.change_notificationtemplate",
        "tracking.view_parcelexception",
        "tracking.handle_parcelexception",
        "tracking.view_carrierclaim",
        "tracking.add_carrierclaim",
        "tracking.view_transitstandard",
        "billing.view_payment",
        "billing.view_refund",
        "billing.add_refund",
    ],
    gettext_noop("仓库"): [
        "orders.view_order",
        "inventory.view_product",
        "inventory.view_stocklevel",
        "inventory.change_stocklevel",
        "inventory.view_stockmovement",
        "inventory.view_warehouse",
        "fulfillment.view_shipment",
        "fulfillment.add_shipment",
        "fulfillment.change_shipment",
        "fulfillment.view_carrier",
        "fulfillment.view_picklist",
        "fulfillment.add_picklist",
        "fulfillment.add_shortpick",
        "fulfillment.view_boxpreset",
        "fulfillment.view_returnrequest",
        "fulfillment.inspect_return",
        "tracking.view_trackingevent",
        "tracking.add_trackingevent",
        "tracking.view_parcelexception",
        "tracking.handle_parcelexception",
        "tracking.view_transitstandard",
        "tracking.change_transitstandard",
    ],
    gettext_noop("财务"): [
        "orders.view_order",
        "orders.complete_order",
        "orders.view_customer",
        "orders.view_analytics",
        "orders.export_orders",
        "billing.view_payment",
        "billing.add_payment",
        "billing.confirm_payment",
        "billing.view_refund",
        "billing.add_refund",
        "billing.approve_refund",
        "billing.view_codcollection",
        "billing.view_codremittance",
        "billing.add_codremittance",
        "billing.reconcile_cod",
        "billing.view_coddifference",
        "billing.view_marketplacesettlement",
        "billing.add_marketplacesettlement",
        "billing.change_marketplacesettlementline",
        "billing.view_journalentry",
        "billing.view_finance_reports",
        "fulfillment.view_shipment",
        "fulfillment.view_returnrequest",
        "tracking.view_parcelexception",
        "tracking.view_carrierclaim",
        "tracking.change_carrierclaim",
    ],
}
OWNER, CUSTOMER_SERVICE, WAREHOUSE, FINANCE = ROLES

APPS = ("orders", "inventory", "fulfillment", "tracking", "billing")


def roles_sync() -> dict[str, Group]:
    """Create or update the staff groups so each has exactly its role's permissions."""
    groups = {}
    all_perms = Permission.objects.filter(content_type__app_label__in=APPS)
    for name, codes in ROLES.items():
        group, _created = Group.objects.get_or_create(name=name)
        if codes == ["*"]:
            perms = list(all_perms)
        else:
            wanted = {tuple(code.split(".", 1)) for code in codes}
            perms = [
                p
                for p in all_perms.select_related("content_type")
                if (p.content_type.app_label, p.codename) in wanted
            ]
        group.permissions.set(perms)
        groups[name] = group
    return groups


def roles_sync_after_migrate(sender, **kwargs):
    """Sync after each of our apps migrates: an app's permissions exist only once its own post_migrate ran."""
    if sender.label in APPS:
        roles_sync()

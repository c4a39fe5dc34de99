"""Which tracking provider follows a parcel, and its adapter built from the settings."""

from django.conf import settings
from django.utils import timezone

from tracking.adapters import aftership, kuaidi100
from tracking.adapters.carriers import ProviderError, TrackingResult
from tracking.adapters.demo import DemoCarrierClient, demo_tracking
from tracking.models import ParcelWatch

P = ParcelWatch.Provider
DEMO_CARRIER_CODE = "demo"


def provider_for(shipment) -> str:
    if shipment.carrier and shipment.carrier.code == DEMO_CARRIER_CODE:
        return P.DEMO
    return settings.TRACKING_PROVIDER


def kuaidi100_client() -> kuaidi100.Kuaidi100:
    return kuaidi100.Kuaidi100(
        customer=settings.KUAIDI100_CUSTOMER,
        key=settings.KUAIDI100_KEY,
        base_url=settings.KUAIDI100_URL,
    )


def tracking_fetch(*, provider: str, shipment) -> TrackingResult:
    """Ask the provider for the parcel's scans now."""
    carrier_code = shipment.carrier.code if shipment.carrier else ""
    if provider == P.DEMO and settings.DEMO_CARRIER_URL:
        return DemoCarrierClient(base_url=settings.DEMO_CARRIER_URL).query(
            tracking_number=shipment.tracking_number, shipped_at=shipment.shipped_at
        )
    if provider == P.DEMO:
        return demo_tracking(
            tracking_number=shipment.tracking_number,
            shipped_at=shipment.shipped_at,
            now=timezone.now(),
            time_scale=settings.DEMO_CARRIER_TIME_SCALE,
        )
    if provider == P.KUAIDI100:
        return kuaidi100_client().query(
            carrier_code=carrier_code,
            tracking_number=shipment.tracking_number,
            phone=shipment.order.recipient_phone[-4:],
        )
    if provider == P.AFTERSHIP:
        client = aftership.AfterShip(
            api_key=settings.AFTERSHIP_API_KEY, base_url=settings.AFTERSHIP_URL
        )
        return client.query(slug=carrier_code, tracking_number=shipment.tracking_number)
    raise ProviderError(f"{provider!r} parcels are not polled")

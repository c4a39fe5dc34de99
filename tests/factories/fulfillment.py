import factory

from fulfillment.models import Carrier


class CarrierFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Carrier
        django_get_or_create = ("code",)

    code = "sf"
    name = "顺丰速运"
    tracking_url = "https://www.sf-express.com/chn/sc/waybill/waybill-detail/{number}"
    supports_cod = True

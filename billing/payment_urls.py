from django.urls import path

from billing import payment_views as views

# Mounted at /webhooks/payments/: providers call these, signed.
webhook_patterns = [
    path(
        "alipay/",
        views.PaymentWebhookView.as_view(provider_code="alipay"),
        name="alipay",
    ),
    path(
        "wechatpay/",
        views.PaymentWebhookView.as_view(provider_code="wechat"),
        name="wechatpay",
    ),
]

from django.urls import path

from tracking import (
    exception_views,
    notification_views,
    views,
    webhook_views,
    webhooks,
)

# Customer-facing pages, mounted at /track/ (namespace "track").
public_patterns = [
    path("", views.TrackLookupView.as_view(), name="lookup"),
    path("<str:number>/", views.TrackOrderView.as_view(), name="order"),
    path("<str:number>/correct/", views.TrackCorrectView.as_view(), name="correct"),
    path("<str:number>/messages/", views.TrackMessagesView.as_view(), name="messages"),
]
# Staff console pages, mounted at /console/tracking/ (namespace "tracking").
console_patterns = [
    path(
        "shipments/<int:shipment_id>/scans/",
        views.ScanAddView.as_view(),
        name="scan_add",
    ),
    path("exceptions/", exception_views.ExceptionListView.as_view(), name="exceptions"),
    path(
        "exceptions/<int:pk>/",
        exception_views.ExceptionDetailView.as_view(),
        name="exception_detail",
    ),
    *(
        path(
            f"exceptions/<int:pk>/{action}/",
            view.as_view(),
            name=f"exception_{action}",
        )
        for action, view in (
            ("note", exception_views.ExceptionNoteView),
            ("notify", exception_views.ExceptionNotifyView),
            ("reship", exception_views.ExceptionReshipView),
            ("claim", exception_views.ExceptionClaimView),
            ("refund", exception_views.ExceptionRefundView),
            ("close", exception_views.ExceptionCloseView),
        )
    ),
    path(
        "claims/<int:pk>/",
        exception_views.ClaimUpdateView.as_view(),
        name="claim_update",
    ),
    path(
        "standards/",
        exception_views.TransitStandardListView.as_view(),
        name="standards",
    ),
    path(
        "messages/",
        notification_views.TemplateListView.as_view(),
        name="notification_templates",
    ),
    path(
        "messages/<str:event>/<str:channel>/<str:language>/",
        notification_views.TemplateEditView.as_view(),
        name="notification_template",
    ),
    path(
        "orders/<str:number>/messages/",
        notification_views.OrderNotificationChoicesView.as_view(),
        name="order_notification_choices",
    ),
    path(
        "standards/<int:pk>/delete/",
        exception_views.TransitStandardDeleteView.as_view(),
        name="standard_delete",
    ),
    path(
        "webhooks/", webhook_views.EndpointListView.as_view(), name="webhook_endpoints"
    ),
    path(
        "webhooks/new/",
        webhook_views.EndpointCreateView.as_view(),
        name="webhook_endpoint_new",
    ),
    path(
        "webhooks/<int:pk>/",
        webhook_views.EndpointDetailView.as_view(),
        name="webhook_endpoint",
    ),
    path(
        "webhooks/<int:pk>/rotate/",
        webhook_views.EndpointRotateView.as_view(),
        name="webhook_endpoint_rotate",
    ),
    path(
        "webhooks/<int:pk>/test/",
        webhook_views.EndpointTestView.as_view(),
        name="webhook_endpoint_test",
    ),
    path(
        "webhooks/<int:pk>/replay-given-up/",
        webhook_views.EndpointReplayGivenUpView.as_view(),
        name="webhook_endpoint_replay_given_up",
    ),
    path(
        "webhooks/deliveries/<int:pk>/replay/",
        webhook_views.DeliveryReplayView.as_view(),
        name="webhook_delivery_replay",
    ),
]
# Provider callbacks, mounted at /webhooks/carriers/ (namespace "carrier_webhooks").
webhook_patterns = [
    path("kuaidi100/", webhooks.kuaidi100_callback, name="kuaidi100"),
    path("aftership/", webhooks.aftership_callback, name="aftership"),
]

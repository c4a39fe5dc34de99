"""The AfterShip adapter: webhook signature, parsing, and the query on a fake server."""

import json
from http.server import BaseHTTPRequestHandler

import pytest

from tracking.adapters import aftership
from tracking.adapters.carriers import ProviderError
from tracking.models import TrackingStatus as T

TRACKING = {
    "slug": "sf-express",
    "tracking_number": "SF1234567890",
    "tag": "Delivered",
    "checkpoints": [
        {
            "checkpoint_time": "2026-11-20T18:02:11+08:00",
            "tag": "Delivered",
            "message": "已签收",
            "location": "深圳市",
        },
        {
            "checkpoint_time": "2026-11-19T09:00:00+08:00",
            "tag": "InTransit",
            "message": "已收取快件",
            "location": "杭州市",
        },
    ],
}
BODY = json.dumps(
    {"ts": 1, "event": "tracking_update", "event_id": "ev-1", "msg": TRACKING},
    ensure_ascii=False,
).encode()


def test_a_webhook_is_accepted_only_with_the_right_signature():
    good = aftership.webhook_signature(BODY, "whsec")

    assert aftership.webhook_verify(body=BODY, signature=good, secret="whsec")
    assert not aftership.webhook_verify(body=BODY, signature=good, secret="other")
    assert not aftership.webhook_verify(
        body=BODY + b" ", signature=good, secret="whsec"
    )
    assert not aftership.webhook_verify(body=BODY, signature=good, secret="")


def test_a_webhook_gives_its_event_id_and_scans_oldest_first():
    event_id, result = aftership.webhook_parse(BODY)

    assert event_id == "ev-1"
    assert [s.status for s in result.scans] == [T.IN_TRANSIT, T.DELIVERED]
    assert result.delivered


def test_a_returning_exception_maps_to_returned_and_unknown_tags_are_refused():
    returning = {
        "checkpoint_time": "2026-11-20T08:00:00+08:00",
        "tag": "Exception",
        "subtag": "Exception_007",
    }
    assert aftership._scan(returning).status == T.RETURNED
    with pytest.raises(ProviderError):
        aftership._scan({**returning, "tag": "Teleported"})


class FakeAfterShip(BaseHTTPRequestHandler):
    status = 200
    body = b""

    def do_GET(self):
        self.send_response(self.status)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args):
        pass


@pytest.fixture
def fake(loopback_server):
    return FakeAfterShip, loopback_server(FakeAfterShip)


def test_a_query_reads_the_tracking_and_busy_answers_are_retried(fake):
    server, url = fake
    client = aftership.AfterShip(api_key="k", base_url=url)
    server.status, server.body = (
        200,
        json.dumps({"data": {"tracking": TRACKING}}).encode(),
    )

    assert len(client.query(slug="sf-express", tracking_number="SF1").scans) == 2

    server.status, server.body = 429, b"{}"
    with pytest.raises(ProviderError) as error:
        client.query(slug="sf-express", tracking_number="SF1")
    assert error.value.retry

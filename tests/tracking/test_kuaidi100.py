"""The Kuaidi100 adapter against a fake Kuaidi100 served on loopback."""

import json
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs

import pytest

from tracking.adapters import kuaidi100
from tracking.adapters.carriers import ProviderError
from tracking.models import TrackingStatus as T

CUSTOMER, KEY = "CUST123", "secret-key"

QUERY_ANSWER = {
    "message": "ok",
    "nu": "SF1234567890",
    "ischeck": "1",
    "com": "shunfeng",
    "status": "200",
    "state": "3",
    "data": [
        {
            "time": "2026-11-20 18:02:11",
            "ftime": "2026-11-20 18:02:11",
            "context": "已签收，签收人：本人",
            "areaName": "广东,深圳市,南山区",
            "status": "签收",
            "statusCode": "301",
        },
        {
            "time": "2026-11-20 08:30:00",
            "ftime": "2026-11-20 08:30:00",
            "context": "快件交给李师傅，正在派送途中",
            "areaName": "广东,深圳市",
            "status": "派件",
            "statusCode": "5",
        },
        {
            "time": "2026-11-19 09:00:00",
            "ftime": "2026-11-19 09:00:00",
            "context": "顺丰速运 已收取快件",
            "areaName": "浙江,杭州市",
            "status": "揽收",
            "statusCode": "1",
        },
    ],
}


class FakeKuaidi100(BaseHTTPRequestHandler):
    """Answers like Kuaidi100 and remembers what it was sent."""

    answers: dict = {}
    received: list = []

    def do_POST(self):
        length = int(self.headers["Content-Length"])
        form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
        self.received.append((self.path, form))
        status, body = self.answers.get(self.path, (404, {}))
        payload = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


@pytest.fixture
def fake(loopback_server):
    FakeKuaidi100.answers, FakeKuaidi100.received = {}, []
    return FakeKuaidi100, loopback_server(FakeKuaidi100)


def client(url):
    return kuaidi100.Kuaidi100(customer=CUSTOMER, key=KEY, base_url=url)


def test_a_query_is_signed_over_the_exact_param_and_its_scans_normalised(fake):
    server, url = fake
    server.answers["/poll/query.do"] = (200, QUERY_ANSWER)

    result = client(url).query(
        carrier_code="sf", tracking_number="SF1234567890", phone="8000"
    )

    _path, form = server.received[0]
    assert form["customer"] == CUSTOMER
    assert form["sign"] == kuaidi100.sign(form["param"] + KEY + CUSTOMER)
    assert json.loads(form["param"])["com"] == "shunfeng"
    assert [s.status for s in result.scans] == [
        T.IN_TRANSIT,
        T.OUT_FOR_DELIVERY,
        T.DELIVERED,
    ]  # oldest first
    assert result.delivered
    assert result.scans[0].location == "浙江,杭州市"
    assert result.scans[-1].occurred_at.isoformat() == "2026-11-20T18:02:11+08:00"


def test_sf_is_not_asked_without_the_recipients_phone(fake):
    _server, url = fake
    with pytest.raises(ProviderError):
        client(url).query(carrier_code="sf", tracking_number="SF1")


@pytest.mark.parametrize(
    ("code", "retry"), [("503", False), ("504", True), ("601", False)]
)
def test_an_error_answer_says_whether_to_try_again(fake, code, retry):
    server, url = fake
    server.answers["/poll/query.do"] = (
        200,
        {"result": False, "returnCode": code, "message": "失败"},
    )

    with pytest.raises(ProviderError) as error:
        client(url).query(carrier_code="zto", tracking_number="7500")

    assert (error.value.code, error.value.retry) == (code, retry)


def test_garbage_and_server_errors_are_provider_errors_to_retry(fake):
    server, url = fake
    server.answers["/poll/query.do"] = (200, b"<html>busy</html>")
    with pytest.raises(ProviderError):
        client(url).query(carrier_code="zto", tracking_number="7500")

    server.answers["/poll/query.do"] = (502, {})
    with pytest.raises(ProviderError) as error:
        client(url).query(carrier_code="zto", tracking_number="7500")
    assert error.value.retry


def test_a_subscription_already_in_place_counts_as_subscribed(fake):
    server, url = fake
    server.answers["/poll"] = (200, {"result": False, "returnCode": "501"})

    assert client(url).subscribe(
        carrier_code="yto",
        tracking_number="YT1",
        callback_url="https://shop.example/webhooks/carriers/kuaidi100/",
        salt="s",
    )
    param = json.loads(server.received[0][1]["param"])
    assert param["company"] == "yuantong"
    assert param["parameters"]["callbackurl"].endswith("/kuaidi100/")


def test_a_push_is_verified_by_its_salted_signature_and_parsed():
    param = json.dumps(
        {"status": "polling", "message": "", "lastResult": QUERY_ANSWER},
        ensure_ascii=False,
    )
    good = kuaidi100.sign(param + "salt")

    assert kuaidi100.push_verify(param=param, signature=good, salt="salt")
    assert not kuaidi100.push_verify(param=param, signature=good, salt="other")
    status, result = kuaidi100.push_parse(param, carrier_code="sf")
    assert status == "polling"
    assert len(result.scans) == 3


def test_an_abort_push_carries_no_scans():
    status, result = kuaidi100.push_parse(
        json.dumps({"status": "abort", "message": "3天查询无记录"}),
        carrier_code="sf",
    )
    assert (status, result) == ("abort", None)


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("0", T.IN_TRANSIT),
        ("204", T.FAILED_ATTEMPT),
        ("501", T.AVAILABLE_FOR_PICKUP),
        ("14", T.EXCEPTION),
        ("6", T.RETURNED),
        ("304", T.DELIVERED),
    ],
)
def test_every_kuaidi100_state_maps_to_one_of_ours(code, status):
    item = {"ftime": "2026-11-20 08:00:00", "context": "x", "statusCode": code}
    assert kuaidi100._scan(item).status == status


def test_an_unknown_state_is_refused_not_guessed():
    with pytest.raises(ProviderError):
        kuaidi100._scan({"ftime": "2026-11-20 08:00:00", "statusCode": "99"})

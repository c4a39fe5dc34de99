"""GET /healthz: the state of the database and the broker, as JSON."""


def test_health_reports_the_database_as_ok(client, db):
    response = client.get("/healthz")
    body = response.json()
    assert response["Content-Type"] == "application/json"
    assert body["database"]["ok"] is True
    assert body["database"]["vendor"]
    # In tests the broker may be the filesystem transport, or absent.
    assert {"ok", "transport"} <= body["broker"].keys()
    assert body["ok"] == (body["database"]["ok"] and body["broker"]["ok"])
    assert response.status_code == (200 if body["ok"] else 503)


def test_health_is_never_cached(client, db):
    response = client.get("/healthz")
    assert "no-cache" in response["Cache-Control"]

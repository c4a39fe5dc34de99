from tracking.adapters.sms import LogSmsBackend


def test_the_log_backend_keeps_only_the_last_messages_it_sent(sms_outbox, monkeypatch):
    # The default backend lives as long as the Celery worker: what it keeps for tests
    # and the demo must not grow with every message of a long run.
    monkeypatch.setattr(LogSmsBackend, "SENT_KEPT", 5)
    backend = LogSmsBackend()
    for n in range(12):
        backend.send(phone="13800138000", text=f"message {n}", reference=f"n{n}")

    assert [m["reference"] for m in sms_outbox] == [f"n{n}" for n in range(7, 12)]
    assert LogSmsBackend.sent is sms_outbox

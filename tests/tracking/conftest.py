import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def fresh_rate_limit():
    """The status page's attempt counters live in the cache, which outlives a test."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def loopback_server():
    """Return a function that serves a request-handler class on 127.0.0.1; returns its URL."""
    import threading
    from http.server import ThreadingHTTPServer

    servers = []

    def serve(handler_class) -> str:
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler_class)
        threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_port}"

    yield serve
    for server in servers:
        server.shutdown()
        server.server_close()

import sys
import time

from orders.management.commands.run_embedded import Supervisor


def test_run_embedded_stops_the_others_when_one_child_exits():
    sleeper = [sys.executable, "-c", "import time; time.sleep(60)"]
    crasher = [
        sys.executable,
        "-c",
        "import time; time.sleep(0.3); raise SystemExit(3)",
    ]
    supervisor = Supervisor({"web": sleeper, "worker": crasher}, grace=5)

    started = time.monotonic()
    exited, status = supervisor.run(poll=0.05)

    assert (exited, status) == ("worker", 3)
    assert supervisor.children["web"].poll() is not None
    assert time.monotonic() - started < 10


def test_run_embedded_kills_a_child_that_ignores_sigterm():
    stubborn = [
        sys.executable,
        "-c",
        "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(60)",
    ]
    supervisor = Supervisor({"web": stubborn}, grace=0.5)
    supervisor.start()
    time.sleep(0.3)

    supervisor.stop()

    assert supervisor.children["web"].returncode == -9

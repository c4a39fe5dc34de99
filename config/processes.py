"""Running a function over many items in several processes, each with its own database connection.

Python runs one thing at a time per process; on a machine with two or more cores a
second process keeps another core (and PostgreSQL) busy. billiard, Celery's fork of
``multiprocessing``, is used because it may start processes inside a Celery worker,
where the standard library refuses ("daemonic processes are not allowed to have
children"). Processes are forked: the function and its start-up need no pickling, the
items and results do.
"""

from collections.abc import Callable, Iterable, Iterator

import billiard
from django.db import connections


def pool_map(
    function: Callable,
    items: Iterable,
    *,
    workers: int,
    start: Callable,
    start_args: tuple = (),
) -> Iterator:
    """Yield ``function(item)`` for each item, in the order they finish.

    ``start(*start_args)`` runs once in each process first. An exception in a process
    is raised here, and the other processes are stopped.
    """
    # A forked child must not share the parent's connection; each opens its own.
    connections.close_all()
    with billiard.get_context("fork").Pool(
        processes=workers, initializer=start, initargs=start_args
    ) as pool:
        yield from pool.imap_unordered(function, items)


def pool_worker_index() -> int:
    """Return this process's place in its pool (0 … workers − 1); 0 outside a pool.

    A process that replaces one that died takes its place.
    """
    return getattr(billiard.current_process(), "index", None) or 0

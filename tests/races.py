"""Races on real concurrent connections: calls run in threads released together by a barrier.

Each thread has its own database connection (Django's connections are per thread). Host-neutral:
the standalone host's races (tests/test_concurrency.py) and the API's (run in both hosts) share it.
"""

import threading

from django.db import connections


def race(*calls):
    """Run the calls in threads released together; return their results and any exceptions."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)
    errors = []

    def run(index, call):
        try:
            barrier.wait(timeout=30)
            results[index] = call()
        except BaseException as error:  # noqa: BLE001 - reported by the test
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(index, call)) for index, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results, errors

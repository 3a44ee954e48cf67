"""``Once``: the process-wide sink both ``EMFMetrics.default()`` and
``PrometheusMetrics.default()`` are, made once however many threads ask at the same time."""

from __future__ import annotations

import threading
import time

from veba_sdk.metrics._observer import Once


def test_many_threads_asking_at_once_get_one_value_made_once() -> None:
    once: Once[object] = Once()
    made: list[object] = []
    start = threading.Barrier(16)

    def make() -> object:
        time.sleep(0.05)  # long enough for every thread to be waiting on the lock
        value = object()
        made.append(value)
        return value

    got: list[object] = []

    def ask() -> None:
        start.wait()
        got.append(once.get(make))

    threads = [threading.Thread(target=ask) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert len(made) == 1
    assert len(got) == 16
    assert all(value is made[0] for value in got)
    # Later calls neither make another nor call make at all.
    assert once.get(lambda: object()) is made[0]


def test_the_two_defaults_are_separate_instances_of_their_class() -> None:
    from veba_sdk.metrics import EMFMetrics, PrometheusMetrics

    emf = EMFMetrics.default()
    prometheus = PrometheusMetrics.default()
    assert isinstance(emf, EMFMetrics)
    assert isinstance(prometheus, PrometheusMetrics)
    assert EMFMetrics.default() is emf
    assert PrometheusMetrics.default() is prometheus

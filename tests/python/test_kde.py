"""kde from Python: against an independent numpy oracle, invariants, GIL release and progress."""

import os
import signal
import threading
import time

import numpy as np
import pandas as pd
import pytest

import streetsafe as ss


def numpy_quartic_density(grid, x, y, w, bandwidth):
    """Continuous quartic kernel density per km² at the grid's cell centres, by brute force."""
    cx, cy = grid.cell_centres()
    gx, gy = np.meshgrid(cx, cy)  # (rows, cols), row 0 northernmost
    density = np.zeros(grid.shape)
    for xi, yi, wi in zip(x, y, w):
        u2 = ((gx - xi) ** 2 + (gy - yi) ** 2) / bandwidth**2
        density += np.where(u2 < 1, wi * 3 / (np.pi * bandwidth**2) * (1 - u2) ** 2, 0.0)
    return density * 1e6


def test_matches_numpy_oracle(london_points):
    x, y, w = london_points
    incidents = ss.incidents_from_arrays(x, y, "EPSG:27700", weight=w, working_crs="EPSG:27700")
    bounds = (529500.0, 179500.0, 530900.0, 180700.0)
    grid = ss.kde(incidents, bandwidth=230, cell=20, normalisation="continuous", bounds=bounds)
    assert grid.bounds == bounds and grid.shape == (60, 70)
    assert grid.units == "incidents per km2"
    expected = numpy_quartic_density(grid, incidents.x, incidents.y, w, 230)
    assert expected.max() > 10  # the comparison is not trivially between zeros
    np.testing.assert_allclose(np.asarray(grid), expected, rtol=0, atol=1e-9)


def test_count_is_density_times_cell_area(london_points):
    x, y, w = london_points
    incidents = ss.incidents_from_arrays(x, y, "EPSG:27700", weight=w)
    density = np.asarray(ss.kde(incidents, output="density", cell=10))
    count = np.asarray(ss.kde(incidents, output="count", cell=10))
    np.testing.assert_allclose(count, density * 100 / 1e6, rtol=1e-12, atol=1e-15)


def test_discrete_mass_is_total_weight(london_points):
    x, y, w = london_points
    incidents = ss.incidents_from_arrays(x, y, "EPSG:27700", weight=w)
    for kernel in ss.KERNELS:
        grid = ss.kde(incidents, kernel=kernel, bandwidth=150, cell=15)
        assert grid.integral(per_km2=True) == pytest.approx(w.sum(), rel=1e-9), kernel


def test_exact_equals_brute_force_and_threads_do_not_matter(demo):
    sample = demo.select(np.arange(len(demo)) % 20 == 0)
    exact = np.asarray(ss.kde(sample, cell=50, threads=1))
    np.testing.assert_array_equal(exact, np.asarray(ss.kde(sample, cell=50, threads=2)))
    brute = np.asarray(ss.kde(sample, cell=50, method="brute_force"))
    np.testing.assert_allclose(exact, brute, rtol=1e-9, atol=1e-9 * exact.max())


def test_dataframe_input_equals_incidents(london_points):
    x, y, w = london_points
    frame = pd.DataFrame({"easting": x, "northing": y, "weight": w})
    from_frame = ss.kde(ss.from_dataframe(frame, source_crs="EPSG:27700"), cell=10)
    from_arrays = ss.kde(ss.incidents_from_arrays(x, y, "EPSG:27700", weight=w), cell=10)
    np.testing.assert_array_equal(np.asarray(from_frame), np.asarray(from_arrays))
    assert from_frame.geotransform == from_arrays.geotransform


def test_kde_accepts_a_dataframe(demo):
    frame = pd.DataFrame({"lon": [-0.95, -0.951, -0.949], "lat": [54.38, 54.381, 54.3795]})
    grid = ss.kde(frame, cell=20)
    assert grid.integral() == pytest.approx(3.0)
    assert "27700" in ss.crs_info(grid.crs)["authority"]


@pytest.fixture(scope="module")
def many():
    """15,000 incidents: with bandwidth 400 m and 5 m cells, a few tenths of a second of kde."""
    rng = np.random.default_rng(7)
    n = 15_000
    x = 530000 + rng.normal(0, 1500, n)
    y = 180000 + rng.normal(0, 1500, n)
    return ss.incidents_from_arrays(x, y, "EPSG:27700", working_crs="EPSG:27700")


def test_gil_is_released_during_kde(many):

    counter = 0
    stop = threading.Event()
    started = threading.Event()

    def count():
        nonlocal counter
        while not stop.is_set():
            counter += 1
            started.set()

    worker = threading.Thread(target=count)
    worker.start()
    started.wait()
    try:
        before = counter
        t0 = time.perf_counter()
        ss.kde(many, bandwidth=400, cell=5, threads=1)
        elapsed = time.perf_counter() - t0
        during = counter - before
    finally:
        stop.set()
        worker.join()
    assert elapsed > 0.05, "the computation was too short to show anything"
    assert during > 0, "the other Python thread never ran: the GIL was held"


def test_progress_is_monotone_and_ends_at_one(demo):
    calls, threads = [], set()

    def progress(fraction, stage):
        calls.append((fraction, stage))
        threads.add(threading.get_ident())

    ss.kde(demo, cell=20, progress=progress)
    fractions = [f for f, _ in calls]
    assert len(calls) >= 2
    assert all(isinstance(s, str) and s for _, s in calls)
    assert all(0.0 <= f <= 1.0 for f in fractions)
    assert all(a <= b for a, b in zip(fractions, fractions[1:]))
    assert fractions[-1] == 1.0
    assert threads == {threading.get_ident()}  # only ever called from the calling thread


def test_ctrl_c_interrupts_kde(many):
    class Interrupted(Exception):
        pass

    def handler(signum, frame):
        raise Interrupted()

    previous = signal.signal(signal.SIGINT, handler)
    timer = threading.Timer(0.05, os.kill, (os.getpid(), signal.SIGINT))
    try:
        timer.start()
        t0 = time.perf_counter()
        with pytest.raises(Interrupted):
            ss.kde(many, bandwidth=400, cell=4, threads=1)
        assert time.perf_counter() - t0 < 5
    finally:
        timer.join()
        signal.signal(signal.SIGINT, previous)


def test_cancelled_from_progress(many):
    def progress(fraction, stage):
        if fraction > 0.1:
            raise ss.Cancelled("enough")

    with pytest.raises(ss.Cancelled, match="enough"):
        ss.kde(many, bandwidth=400, cell=5, progress=progress)

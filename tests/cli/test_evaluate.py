"""streetsafe evaluate: a temporal split, the PAI / PEI / RRI curve printed and written as CSV."""

import csv

import numpy as np
import pytest

# A persistent cluster (half the incidents) in a 2 x 2 km square, one incident per day of 2023.
rng = np.random.default_rng(4)
_N = 365
_CLUSTER = rng.random(_N) < 0.5
_X = np.where(_CLUSTER, 530_600 + rng.normal(0, 40, _N), 530_000 + rng.uniform(0, 2000, _N))
_Y = np.where(_CLUSTER, 180_400 + rng.normal(0, 40, _N), 180_000 + rng.uniform(0, 2000, _N))
_DAYS = np.datetime64("2023-01-01") + np.arange(_N)
TIMED_CSV = "easting,northing,time\n" + "".join(f"{x:.1f},{y:.1f},{d}T12:00:00\n" for x, y, d in zip(_X, _Y, _DAYS))


@pytest.fixture()
def timed_csv(tmp_path):
    path = tmp_path / "timed.csv"
    path.write_text(TIMED_CSV)
    return path


SPLIT = ("--source-crs", "EPSG:27700", "--train-from", "2023-01", "--train-to", "2023-07", "--test-to", "2024-01")


def test_evaluate_prints_and_writes_the_curve(run, timed_csv, tmp_path):
    r = run("evaluate", timed_csv, *SPLIT, "--bandwidth", 200, "--cell", 50, "-o", "curve.csv")
    assert r.returncode == 0, r.stderr
    assert "train      181 incidents" in r.stdout and "test       184 incidents" in r.stdout
    rows = list(csv.DictReader((tmp_path / "curve.csv").open()))
    assert [float(row["percent"]) for row in rows] == list(range(1, 21))
    pai = np.array([float(row["pai"]) for row in rows])
    pei = np.array([float(row["pei"]) for row in rows])
    assert pai[0] > 10 and (pei <= 1 + 1e-9).all() and (pei > 0).all()
    assert "PAI" in r.stdout and "written    curve.csv" in r.stdout


def test_evaluate_bandwidth_method_and_gap(run, timed_csv):
    r = run("evaluate", timed_csv, *SPLIT[:-2], "--test-from", "2023-09", "--test-to", "2024-01",
            "--bandwidth-method", "scott", "--cell", 50)
    assert r.returncode == 0, r.stderr
    assert "(scott" in r.stdout.lower() or "scott" in r.stdout.lower()
    assert "test       122 incidents" in r.stdout


def test_evaluate_help_has_examples(run):
    r = run("evaluate", "--help")
    assert r.returncode == 0 and "Examples:" in r.stdout and "--bandwidth-method" in r.stdout


@pytest.mark.parametrize(
    "args, fragment",
    [
        (("--train-from", "2023-07", "--train-to", "2023-01", "--test-to", "2024-01"), "follow each other"),
        (("--train-from", "2025-01", "--train-to", "2025-02", "--test-to", "2025-03"), "no incidents"),
        (("--train-from", "soon", "--train-to", "2023-02", "--test-to", "2023-03"), "--train-from"),
        (("--train-from", "2023-01", "--train-to", "2023-07", "--test-to", "2024-01", "--bandwidth", "100",
          "--bandwidth-method", "scott"), "excludes"),
    ],
)
def test_evaluate_bad_input_fails_with_one_line(run, timed_csv, args, fragment):
    r = run("evaluate", timed_csv, "--source-crs", "EPSG:27700", *args)
    assert r.returncode == 2, r.stderr
    assert r.stderr.count("\n") == 1 and fragment in r.stderr

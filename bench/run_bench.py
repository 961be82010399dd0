"""``make bench``: how far ``hikikomori run`` is from the floor, at 2,000, 5,000 and 10,000 files.

Everything happens in a fresh temporary folder (never under ``examples/``), from a fixed seed:

- a registry of 2,000 generated municipalities (``--registry``, CONTRACT.md §2), each with a valid
  check digit, and for each a canonical UTF-8 submission per fiscal year 2014–2018 (summary form up
  to FY2015, detailed form from FY2016): 10,000 files; the 2,000 and 5,000-file sizes take the first
  400 and 1,000 centers, all five years;
- per size: the floor (a fresh Python process in which DuckDB reads the same inbox with ``read_csv``
  over the glob and sums the counts), then ``hikikomori run`` on it as a subprocess, with its wall
  time, files per second and peak memory; the run's loaded total must equal the floor's;
- Prefect's fixed cost: ``hikikomori run`` on an empty inbox (warm Prefect home);
- the pre-check: ``hikikomori validate`` on one file against ``python -c "import pandas, pandera.pandas"``
  (median of several runs);
- ``hikikomori run`` on the bundled examples, cold (fresh warehouse and fresh Prefect home).

Peak memory is read two ways: the whole process tree (``hikikomori run`` and the Prefect server it
starts), summing VmRSS from /proc every 50 ms; and the largest single process, exactly, from
``wait4``'s ``ru_maxrss``. The machine's load average is printed with the table.

Usage: make bench (or .venv-bench/bin/python bench/run_bench.py) [--sizes 2000 5000 10000] [--repetitions 5] [--keep]
"""

import argparse
import csv
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from hikikomori.domain.center_codes import check_digit
from hikikomori.domain.reference import load_reference_data

VENV_BIN = Path(sys.executable).parent
HIKIKOMORI = str(VENV_BIN / "hikikomori")
EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "submissions"
SEED = 20260
CENTER_COUNT = 2000
FISCAL_YEARS = (2014, 2015, 2016, 2017, 2018)
SIZES = (2000, 5000, 10000)
FLOOR_SCRIPT = """
import sys, duckdb
columns = {"center_code": "VARCHAR", "fiscal_year": "VARCHAR", "measure": "VARCHAR",
           "category": "VARCHAR", "count": "BIGINT"}
connection = duckdb.connect()
connection.execute("set enable_progress_bar = false")
relation = connection.read_csv(sys.argv[1], header=True, columns=columns)
rows, total = relation.aggregate("count(*), sum(count)").fetchall()[0]
print(rows, total)
"""
WAREHOUSE_TOTAL_SCRIPT = """
import sys, duckdb
with duckdb.connect(sys.argv[1], read_only=True) as connection:
    print(connection.execute("select count(*), sum(count) from raw.submission_rows").fetchall()[0][1])
"""


@dataclass(frozen=True)
class Measurement:
    seconds: float
    tree_peak_rss_mib: float  # sum over the process tree, sampled
    largest_process_rss_mib: float  # exact, from wait4
    stdout: str


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    parser.add_argument("--repetitions", type=int, default=5, help="runs of the pre-check and its floor")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()
    started = time.perf_counter()
    workdir = Path(tempfile.mkdtemp(prefix="hikikomori-bench-"))
    try:
        report(workdir, sorted(args.sizes), args.repetitions)
    finally:
        if args.keep:
            print(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    print(f"\nbenchmark wall time: {time.perf_counter() - started:.0f} s")
    return 0


def report(workdir: Path, sizes: list[int], repetitions: int) -> None:
    rng = random.Random(SEED)
    registry = workdir / "registry.csv"
    codes = write_registry(registry, rng)
    submissions = workdir / "submissions"
    write_submissions(submissions, codes, rng)
    print(f"generated {len(codes)} centers × {len(FISCAL_YEARS)} fiscal years in {workdir}")
    print(f"machine: {os.cpu_count()} cores, load average before: {load_average()}\n")

    prefect_home = workdir / "prefect-home"  # shared by the sized runs: warm after the first
    environment = run_environment(prefect_home)
    run_pipeline(workdir / "warm-up", registry, environment)  # creates the Prefect home's database
    empty = run_pipeline(workdir / "empty", registry, environment)

    rows = []
    for size in sizes:
        centers = size // len(FISCAL_YEARS)
        files = [submissions / f"{code}_{year}.csv" for code in codes[:centers] for year in FISCAL_YEARS]
        folder = workdir / f"run-{size}"
        link_files(files, folder / "inbox")
        # The floor reads the inbox first: the run then takes the same files out of it.
        floor = measure([sys.executable, "-c", FLOOR_SCRIPT, str(folder / "inbox" / "*.csv")], environment)
        floor_rows, floor_total = (int(value) for value in floor.stdout.split())
        run = run_pipeline(folder, registry, environment)
        loaded_total = warehouse_total(warehouse_in(folder))
        if loaded_total != floor_total or f"取込 accepted {len(files)}," not in run.stdout:
            raise SystemExit(f"run of {size} files did not load every file:\n{run.stdout}")
        rows.append((size, floor_rows, floor, run))
        print(f"  {size} files: floor {floor.seconds:.1f} s, run {run.seconds:.1f} s (load {load_average()})")

    validate_file = EXAMPLES / "130001_2016.csv"
    precheck = [measure([HIKIKOMORI, "validate", str(validate_file)], environment) for _ in range(repetitions)]
    import_floor = [
        measure([sys.executable, "-c", "import pandas, pandera.pandas"], environment) for _ in range(repetitions)
    ]
    cold_environment = {name: value for name, value in environment.items() if name != "PREFECT_HOME"}
    shutil.copytree(EXAMPLES, workdir / "examples-cold" / "inbox")
    cold = run_pipeline(workdir / "examples-cold", None, cold_environment)

    print_table(rows, empty, precheck, import_floor, cold)
    print(f"\nload average after: {load_average()}")


def write_registry(path: Path, rng: random.Random) -> list[str]:
    """2,000 municipalities with distinct, valid codes, all open before the first benchmark year."""
    prefixes = sorted(rng.sample(range(10000, 100000), CENTER_COUNT))
    codes = [f"{prefix}{check_digit(str(prefix))}" for prefix in prefixes]
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(("center_code", "center_name", "kind", "opened_fiscal_year", "sites"))
        for number, code in enumerate(codes, start=1):
            opened = rng.randint(2009, FISCAL_YEARS[0])
            writer.writerow((code, f"ベンチマーク用センター{number:04d}", "municipality", opened, rng.randint(1, 3)))
    return codes


def write_submissions(folder: Path, codes: list[str], rng: random.Random) -> None:
    """One canonical file per center and year; some with the optional referral total and supporter row."""
    folder.mkdir(parents=True)
    reference = load_reference_data()
    forms = {
        year: [item.category for item in reference.form_categories(reference.form_for(year))] for year in FISCAL_YEARS
    }
    for code in codes:
        for year in FISCAL_YEARS:
            categories = forms[year]
            referrals = {category: rng.randint(0, 40) for category in categories}
            lines = ["center_code,fiscal_year,measure,category,count"]
            lines.append(f"{code},{year},consultations,total,{rng.randint(50, 3000)}")
            lines += [f"{code},{year},referrals,{category},{count}" for category, count in referrals.items()]
            if rng.random() < 0.5:
                lines.append(f"{code},{year},referrals,total,{sum(referrals.values())}")
            if rng.random() < 0.5:
                lines.append(f"{code},{year},supporter_activities,total,{rng.randint(0, 200)}")
            (folder / f"{code}_{year}.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")


def link_files(files: list[Path], inbox: Path) -> None:
    """Hard links: the run removes them from its inbox while the generated originals stay."""
    inbox.mkdir(parents=True)
    for path in files:
        os.link(path, inbox / path.name)


def run_environment(prefect_home: Path) -> dict[str, str]:
    """The caller's environment without any configured Prefect server: every run is self-contained."""
    environment = {name: value for name, value in os.environ.items() if not name.startswith("PREFECT_")}
    environment["PREFECT_HOME"] = str(prefect_home)
    return environment


def run_pipeline(folder: Path, registry: Path | None, environment: dict[str, str]) -> Measurement:
    """``hikikomori run`` on ``folder/inbox`` (prepared by the caller) into a fresh warehouse there."""
    (folder / "inbox").mkdir(parents=True, exist_ok=True)
    command = [HIKIKOMORI, "run", "--inbox", str(folder / "inbox"), "--warehouse", str(warehouse_in(folder))]
    if registry is not None:
        command += ["--registry", str(registry)]
    return measure(command, environment)


def warehouse_in(folder: Path) -> Path:
    return folder / "warehouse" / "hikikomori.duckdb"


def warehouse_total(warehouse: Path) -> int:
    result = subprocess.run(
        [sys.executable, "-c", WAREHOUSE_TOTAL_SCRIPT, str(warehouse)], capture_output=True, text=True, check=True
    )
    return int(result.stdout)


def measure(command: list[str], environment: dict[str, str]) -> Measurement:
    """Wall time and peak memory of a command and everything it starts; fails loudly on a non-zero exit."""
    with tempfile.TemporaryFile() as output:
        started = time.perf_counter()
        process = subprocess.Popen(command, env=environment, stdout=output, stderr=subprocess.STDOUT)
        sampler = _TreeMemorySampler(process.pid)
        sampler.start()
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        sampler.stop()
        output.seek(0)
        text = output.read().decode("utf-8", errors="replace")
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command)} exited {process.returncode}:\n{text[-3000:]}")
    return Measurement(seconds, sampler.peak_kib / 1024, usage.ru_maxrss / 1024, text)


class _TreeMemorySampler(threading.Thread):
    """Peak of the summed resident memory of a process and its descendants (from /proc)."""

    def __init__(self, root: int, interval: float = 0.05) -> None:
        super().__init__(daemon=True)
        self.root, self.interval, self.peak_kib = root, interval, 0
        self._stopped = threading.Event()

    def run(self) -> None:
        while not self._stopped.is_set():
            self.peak_kib = max(self.peak_kib, sum(_rss_kib(pid) for pid in _descendants(self.root)))
            self._stopped.wait(self.interval)

    def stop(self) -> None:
        self._stopped.set()
        self.join()


def _descendants(root: int) -> list[int]:
    found, pending = [], [root]
    while pending:
        pid = pending.pop()
        found.append(pid)
        try:
            for task in Path(f"/proc/{pid}/task").iterdir():
                pending.extend(int(child) for child in (task / "children").read_text().split())
        except OSError:  # the process ended between two reads
            continue
    return found


def _rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def load_average() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def print_table(
    rows: list[tuple[int, int, Measurement, Measurement]],
    empty: Measurement,
    precheck: list[Measurement],
    import_floor: list[Measurement],
    cold: Measurement,
) -> None:
    print("\n`hikikomori run` against the floor (DuckDB read_csv over the same files, fresh process)")
    header = (
        f"{'files':>6} {'rows':>7} {'floor s':>8} {'run s':>7} {'run/floor':>9} {'run−fixed s':>11} "
        f"{'files/s':>8} {'floor files/s':>13} {'tree peak MiB':>13} {'largest proc MiB':>16}"
    )
    print(header)
    print("-" * len(header))
    for size, row_count, floor, run in rows:
        print(
            f"{size:>6} {row_count:>7} {floor.seconds:>8.2f} {run.seconds:>7.2f} {run.seconds / floor.seconds:>8.1f}× "
            f"{run.seconds - empty.seconds:>11.2f} {size / run.seconds:>8.0f} {size / floor.seconds:>13.0f} "
            f"{run.tree_peak_rss_mib:>13.0f} {run.largest_process_rss_mib:>16.0f}"
        )
    print(
        f"\nPrefect's fixed cost: `hikikomori run` on an empty inbox (warm Prefect home) {empty.seconds:.2f} s, "
        f"tree peak {empty.tree_peak_rss_mib:.0f} MiB"
    )
    precheck_median = statistics.median(item.seconds for item in precheck)
    floor_median = statistics.median(item.seconds for item in import_floor)
    print(
        f"pre-check: `hikikomori validate` one file {precheck_median:.2f} s vs "
        f'`python -c "import pandas, pandera.pandas"` {floor_median:.2f} s '
        f"(median of {len(precheck)}): {precheck_median / floor_median:.2f}×"
    )
    print(
        f"bundled examples, cold (fresh warehouse and Prefect home): {cold.seconds:.2f} s, "
        f"tree peak {cold.tree_peak_rss_mib:.0f} MiB"
    )


if __name__ == "__main__":
    sys.exit(main())

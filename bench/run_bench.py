"""``make bench``: how far ``hikikomori run`` is from the floor, at 2,000, 5,000 and 10,000 files.

Everything happens in a fresh temporary folder (never under ``examples/``), from a fixed seed:

- a registry of 2,000 generated municipalities (``--registry``, CONTRACT.md §2), each with a valid
  check digit, and for each a canonical UTF-8 submission per fiscal year 2014–2018 (summary form up
  to FY2015, detailed form from FY2016): 10,000 files; the 2,000 and 5,000-file sizes take the first
  400 and 1,000 centers, all five years;
- per size, five times, the sizes taking turns (the medians are shown: with three, a size's median moved
  by up to 0.8 s from one benchmark to the next, and the per-file targets are differences of two medians):
  the floor (a fresh Python process in which DuckDB reads the same inbox with ``read_csv`` over the
  glob and sums the counts), then ``hikikomori run`` on it as a subprocess,
  with its wall time, files per second and peak memory, twice over: with its temporary Prefect server
  (as ``make run``), then against a running ``prefect server start`` (as the deployments run); the
  run's loaded total must equal the floor's. Every run's folder is kept until the benchmark ends;
- the fixed cost: ``hikikomori run`` on an empty inbox into a warehouse that exists (what every
  scheduled run pays whatever the inbox holds; median of three), with the temporary server (warm
  Prefect home) and against a running ``prefect server start`` on loopback (``PREFECT_API_URL``),
  and the first run into a new warehouse (its migrations) for comparison;
- the pre-check: ``hikikomori validate`` on one file against ``python -c "import pandas, pandera.pandas"``
  (median of several runs), in the environment ``make setup`` builds (``--setup-venv``, with the dev
  dependencies: pandera imports hypothesis when it is installed) and in this one (``--no-dev``);
- ``hikikomori run`` on the bundled examples, cold (fresh warehouse and fresh Prefect home).

Peak memory is read two ways: the whole process tree (``hikikomori run`` and the Prefect server it
starts), summing VmRSS from /proc every 50 ms; and the largest single process, exactly, from
``wait4``'s ``ru_maxrss``. The machine's load average is printed with the results, and the targets of
issue 15 as ratios (≤ 1 meets a target).

Usage: make bench (or .venv-bench/bin/python bench/run_bench.py) [--sizes 2000 5000 10000] [--repetitions 5]
[--setup-venv .venv] [--keep]
"""

import argparse
import csv
import http.client
import itertools
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from hikikomori.domain.center_codes import check_digit
from hikikomori.domain.reference import load_reference_data

VENV_BIN = Path(sys.executable).parent
HIKIKOMORI = str(VENV_BIN / "hikikomori")
EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "submissions"
PREFECT = str(VENV_BIN / "prefect")
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
    parser.add_argument("--run-repetitions", type=int, default=5, help="runs per size (the median is shown)")
    parser.add_argument(
        "--setup-venv", type=Path, help="the environment `make setup` builds (.venv), for the pre-check"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()
    started = time.perf_counter()
    workdir = Path(tempfile.mkdtemp(prefix="hikikomori-bench-"))
    try:
        report(workdir, sorted(args.sizes), args.repetitions, args.run_repetitions, args.setup_venv)
    finally:
        if args.keep:
            print(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    print(f"\nbenchmark wall time: {time.perf_counter() - started:.0f} s")
    return 0


def report(workdir: Path, sizes: list[int], repetitions: int, run_repetitions: int, setup_venv: Path | None) -> None:
    rng = random.Random(SEED)
    registry = workdir / "registry.csv"
    codes = write_registry(registry, rng)
    submissions = workdir / "submissions"
    write_submissions(submissions, codes, rng)
    print(f"generated {len(codes)} centers × {len(FISCAL_YEARS)} fiscal years in {workdir}")
    print(f"machine: {os.cpu_count()} cores, load average before: {load_average()}\n")

    prefect_home = workdir / "prefect-home"  # shared by the runs: warm after the first
    environment = run_environment(prefect_home)
    fixed = measure_fixed_costs(workdir, registry, environment)
    print(
        f"  fixed cost: {fixed.temporary.seconds:.2f} s, against a running server {fixed.served.seconds:.2f} s "
        f"(load {load_average()})"
    )

    rows = sized_runs(workdir, "temporary", sizes, codes, submissions, registry, environment, run_repetitions)
    with prefect_server(workdir / "prefect-server-sized", environment) as server_environment:
        served_rows = sized_runs(
            workdir, "served", sizes, codes, submissions, registry, server_environment, run_repetitions
        )

    validate_file = EXAMPLES / "130001_2016.csv"
    prechecks = {}
    for label, bin_dir in [
        ("make setup (.venv, dev dependencies)", setup_venv and setup_venv / "bin"),
        ("--no-dev", VENV_BIN),
    ]:
        if bin_dir is None:
            continue
        command = [str(bin_dir / "hikikomori"), "validate", str(validate_file)]
        import_floor = [str(bin_dir / "python"), "-c", "import pandas, pandera.pandas"]
        prechecks[label] = (
            [measure(command, environment) for _ in range(repetitions)],
            [measure(import_floor, environment) for _ in range(repetitions)],
        )
    cold_environment = {name: value for name, value in environment.items() if name != "PREFECT_HOME"}
    shutil.copytree(EXAMPLES, workdir / "examples-cold" / "inbox")
    cold = run_pipeline(workdir / "examples-cold", None, cold_environment)

    print_table(rows, served_rows, fixed, prechecks, cold)
    print(f"\nload average after: {load_average()}")


def sized_runs(
    workdir: Path,
    label: str,
    sizes: list[int],
    codes: list[str],
    submissions: Path,
    registry: Path,
    environment: dict[str, str],
    run_repetitions: int,
) -> list["Sized"]:
    """Per size, its ``run_repetitions`` runs and floors (``Sized``), every run in a new folder.

    The sizes take turns (2,000, 5,000, 10,000, then again): the per-file targets are differences
    between sizes, and a machine that slows down or speeds up during the benchmark then moves every
    size alike instead of the sizes measured last.
    """
    files_of = {
        size: [
            submissions / f"{code}_{year}.csv" for code in codes[: size // len(FISCAL_YEARS)] for year in FISCAL_YEARS
        ]
        for size in sizes
    }
    floors: dict[int, list[Measurement]] = {size: [] for size in sizes}
    runs: dict[int, list[Measurement]] = {size: [] for size in sizes}
    floor_rows: dict[int, int] = {}
    for repetition in range(run_repetitions):
        for size in sizes:
            files = files_of[size]
            folder = workdir / f"run-{label}-{size}-{repetition}"
            copy_files(files, folder / "inbox")
            # The floor reads the inbox first: the run then takes the same files out of it.
            floor = measure([sys.executable, "-c", FLOOR_SCRIPT, str(folder / "inbox" / "*.csv")], environment)
            rows_read, floor_total = (int(value) for value in floor.stdout.split())
            run = run_pipeline(folder, registry, environment)
            loaded_total = warehouse_total(warehouse_in(folder))
            if loaded_total != floor_total or f"取込 accepted {len(files)}," not in run.stdout:
                raise SystemExit(f"run of {size} files did not load every file:\n{run.stdout}")
            floor_rows[size] = rows_read
            floors[size].append(floor)
            runs[size].append(run)
            # Kept until the benchmark ends: removing a run's ~10,000 files here made the next run pay for
            # it (ext4 scans the inodes freed in the last ~30 s for each inode it creates: docs/performance.md).
    rows = [Sized(size, floor_rows[size], floors[size], runs[size]) for size in sizes]
    for row in rows:
        print(
            f"  {row.size} files ({label}): floor {row.floor.seconds:.1f} s, run {row.run.seconds:.1f} s "
            f"(runs {', '.join(f'{item.seconds:.1f}' for item in row.runs)}; load {load_average()})"
        )
    return rows


@dataclass(frozen=True)
class Sized:
    """One size's runs and floors, in the order they were made (repetition by repetition)."""

    size: int
    row_count: int
    floors: list[Measurement]
    runs: list[Measurement]

    @property
    def floor(self) -> Measurement:
        return median(self.floors)

    @property
    def run(self) -> Measurement:
        return median(self.runs)


def per_file_slope(before: Sized, after: Sized) -> float:
    """Seconds per file from one size to the next: the median of each repetition's own difference.

    The two sizes of a repetition ran one after the other, so what the machine was doing at the time
    weighs on both; the median then leaves out a repetition the machine disturbed.
    """
    return statistics.median(repetition_slopes(before, after))


def repetition_slopes(before: Sized, after: Sized) -> list[float]:
    """Each repetition's seconds per file from one size to the next (their spread shows the machine's noise)."""
    files = after.size - before.size
    return [(later.seconds - earlier.seconds) / files for earlier, later in zip(before.runs, after.runs, strict=True)]


def median(measurements: list[Measurement]) -> Measurement:
    """The measurement with the median time (short commands vary run to run on a shared machine)."""
    return sorted(measurements, key=lambda item: item.seconds)[len(measurements) // 2]


@dataclass(frozen=True)
class FixedCosts:
    """``hikikomori run`` on an empty inbox into a warehouse that exists, median of three each."""

    temporary: Measurement  # temporary Prefect server, the benchmark's 2,000-center registry
    served: Measurement  # against a running ``prefect server start``, same registry
    temporary_bundled: Measurement  # temporary server, the bundled registry (67 centers, production)
    served_bundled: Measurement  # running server, the bundled registry
    first: Measurement  # the first run into a new warehouse (migrations), temporary server


def measure_fixed_costs(workdir: Path, registry: Path, environment: dict[str, str]) -> FixedCosts:
    def empty_runs(name: str, chosen: Path | None, using: dict[str, str]) -> Measurement:
        run_pipeline(workdir / name, chosen, using)  # its warehouse (and Prefect's database) created first
        return median([run_pipeline(workdir / name, chosen, using) for _ in range(3)])

    temporary = empty_runs("empty", registry, environment)
    temporary_bundled = empty_runs("empty-bundled", None, environment)
    first = run_pipeline(workdir / "first-run", registry, environment)
    with prefect_server(workdir / "prefect-server", environment) as server_environment:
        served = empty_runs("empty-served", registry, server_environment)
        served_bundled = empty_runs("empty-served-bundled", None, server_environment)
    return FixedCosts(temporary, served, temporary_bundled, served_bundled, first)


@contextmanager
def prefect_server(home: Path, environment: dict[str, str]) -> Iterator[dict[str, str]]:
    """``prefect server start`` on a free loopback port (its own home); yields the environment that uses it."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server_environment = {
        **environment,
        "PREFECT_HOME": str(home),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
        "PREFECT_UI_ENABLED": "false",
    }
    log = (home.parent / "prefect-server.log").open("w")
    server = subprocess.Popen(
        [PREFECT, "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env=server_environment,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: stopped with everything it started
    )
    try:
        deadline = time.monotonic() + 300
        while not _answers(port):
            if server.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"prefect server start failed: see {log.name}")
            time.sleep(0.5)
        yield {**server_environment, "PREFECT_API_URL": f"http://127.0.0.1:{port}/api"}
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        log.close()


def _answers(port: int) -> bool:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request("GET", "/api/health")
        return connection.getresponse().status == 200
    except OSError:
        return False
    finally:
        connection.close()


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


def copy_files(files: list[Path], inbox: Path) -> None:
    """Copies, as a center's file arrives (a hard link to the generated original would have two names,
    which the run then copies rather than links into its archive: ``pipeline/intake.py``)."""
    inbox.mkdir(parents=True)
    for path in files:
        shutil.copyfile(path, inbox / path.name)


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
    """Wall time and peak memory of a command and everything it starts; fails loudly on a non-zero exit.

    What the benchmark itself wrote before (the inbox's copies, removed folders) is synced to disk first:
    a run syncs once after writing its archive (``os.sync``), and must not pay for the benchmark's writes.
    """
    os.sync()
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
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return 0  # the process has ended since it was listed: it holds no memory now
    for line in lines:
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def load_average() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def print_table(
    rows: list[Sized],
    served_rows: list[Sized],
    fixed: FixedCosts,
    prechecks: dict[str, tuple[list[Measurement], list[Measurement]]],
    cold: Measurement,
) -> None:
    for title, sized, empty in [
        ("with its temporary Prefect server (as `make run`)", rows, fixed.temporary),
        ("against a running `prefect server start` (as the deployments)", served_rows, fixed.served),
    ]:
        print_sized(title, sized, empty)
    print(
        "\nfixed cost, `hikikomori run` on an empty inbox into an existing warehouse (median of 3):\n"
        "                                                 bundled registry (67)   benchmark registry (2,000)"
    )
    for label, bundled, benchmark in [
        ("temporary Prefect server (warm Prefect home)", fixed.temporary_bundled, fixed.temporary),
        ("against a running `prefect server start`", fixed.served_bundled, fixed.served),
    ]:
        print(
            f"  {label:<46} {bundled.seconds:>6.2f} s ({bundled.tree_peak_rss_mib:.0f} MiB)   "
            f"{benchmark.seconds:>6.2f} s ({benchmark.tree_peak_rss_mib:.0f} MiB)"
        )
    print(f"  first run into a new warehouse (temporary server, benchmark registry): {fixed.first.seconds:.2f} s")
    for label, (precheck, import_floor) in prechecks.items():
        precheck_median = statistics.median(item.seconds for item in precheck)
        floor_median = statistics.median(item.seconds for item in import_floor)
        print(
            f"pre-check in {label}: `hikikomori validate` one file {precheck_median:.2f} s vs "
            f'`python -c "import pandas, pandera.pandas"` {floor_median:.2f} s '
            f"(median of {len(precheck)}): {precheck_median / floor_median:.2f}×"
        )
    print(
        f"bundled examples, cold (fresh warehouse and Prefect home): {cold.seconds:.2f} s, "
        f"tree peak {cold.tree_peak_rss_mib:.0f} MiB"
    )
    print_targets(rows, served_rows, fixed, prechecks)


def print_sized(title: str, rows: list[Sized], empty: Measurement) -> None:
    """One table of sized runs against their floors; ``empty`` is the same setup's fixed cost."""
    print(f"\n`hikikomori run` {title}, against the floor (DuckDB read_csv over the same files, fresh process)")
    header = (
        f"{'files':>6} {'rows':>7} {'floor s':>8} {'run s':>7} {'run/floor':>9} {'run−fixed s':>11} "
        f"{'files/s':>8} {'floor files/s':>13} {'tree peak MiB':>13} {'largest proc MiB':>16}"
    )
    print(header)
    print("-" * len(header))
    for row in rows:
        size, row_count, floor, run = row.size, row.row_count, row.floor, row.run
        print(
            f"{size:>6} {row_count:>7} {floor.seconds:>8.2f} {run.seconds:>7.2f} {run.seconds / floor.seconds:>8.1f}× "
            f"{run.seconds - empty.seconds:>11.2f} {size / run.seconds:>8.0f} {size / floor.seconds:>13.0f} "
            f"{run.tree_peak_rss_mib:>13.0f} {run.largest_process_rss_mib:>16.0f}"
        )


def sized_targets(rows: list[Sized], setup: str) -> list[tuple[str, float, str]]:
    """The per-file targets of one set of sized runs: (name, measured / target, what was measured).

    A per-file cost between two sizes is the median of the repetitions' own differences
    (``per_file_slope``); the difference of the two sizes' medians is shown beside it.
    """
    results: list[tuple[str, float, str]] = []
    by_size = {row.size: row for row in rows}
    if len(rows) >= 2:
        small, large = rows[-2], rows[-1]
        run_per_file = per_file_slope(small, large)
        of_medians = (large.run.seconds - small.run.seconds) / (large.size - small.size)
        each = sorted(repetition_slopes(small, large))
        spread = f"{each[0] * 1000:.2f}–{each[-1] * 1000:.2f}"
        floor_per_file = (large.floor.seconds - small.floor.seconds) / (large.size - small.size)
        floor_average = large.floor.seconds / large.size
        # The floor's per-file cost at the largest size: its time over its files (as the issue words it).
        results.append(
            (
                f"{setup}: marginal cost per file ({small.size:,}→{large.size:,} files) ≤ 3× the floor's per file "
                f"at {large.size:,}",
                run_per_file / (3 * floor_average),
                f"{run_per_file * 1000:.2f} ms/file (repetitions {spread}; of the medians {of_medians * 1000:.2f}) "
                f"vs floor {floor_average * 1000:.3f} ms/file "
                f"(floor's own marginal {floor_per_file * 1000:.3f} ms/file)",
            )
        )
        slopes = [per_file_slope(before, after) for before, after in itertools.pairwise(rows)]
        results.append(
            (
                f"{setup}: growth linear (per-file cost of the last step / of the first, ≤ 1.25)",
                slopes[-1] / slopes[0] / 1.25,
                ", ".join(f"{slope * 1000:.2f} ms/file" for slope in slopes),
            )
        )
    if 10000 in by_size:
        floor, run = by_size[10000].floor, by_size[10000].run
        results.append(
            (
                f"{setup}: 10,000 files end to end ≤ 8× the floor",
                run.seconds / floor.seconds / 8,
                f"{run.seconds / floor.seconds:.1f}×",
            )
        )
    return results


def print_targets(
    rows: list[Sized],
    served_rows: list[Sized],
    fixed: FixedCosts,
    prechecks: dict[str, tuple[list[Measurement], list[Measurement]]],
) -> None:
    """Issue 15's targets as measured / target (≤ 1 meets it)."""
    print("\ntargets (issue 15), measured / target: ≤ 1 meets it")
    results = [
        (f"fixed cost, temporary server ≤ 6 s, {registry} registry", run.seconds / 6.0, f"{run.seconds:.2f} s")
        for registry, run in (("bundled", fixed.temporary_bundled), ("benchmark", fixed.temporary))
    ] + [
        (f"fixed cost, running server ≤ 2 s, {registry} registry", run.seconds / 2.0, f"{run.seconds:.2f} s")
        for registry, run in (("bundled", fixed.served_bundled), ("benchmark", fixed.served))
    ]
    results += sized_targets(rows, "temporary server") + sized_targets(served_rows, "running server")
    peak = max(run.tree_peak_rss_mib for row in rows + served_rows for run in row.runs)
    results.append(("peak memory of the process tree < 1 GiB", peak / 1024, f"{peak:.0f} MiB"))
    for label, (precheck, import_floor) in prechecks.items():
        ratio = statistics.median(item.seconds for item in precheck) / statistics.median(
            item.seconds for item in import_floor
        )
        results.append((f"pre-check ≤ 1.2× its import floor, {label}", ratio / 1.2, f"{ratio:.2f}×"))
    for name, ratio, measured in results:
        print(f"  {ratio:5.2f}  {'met   ' if ratio <= 1 else 'MISSED'}  {name}: {measured}")


if __name__ == "__main__":
    sys.exit(main())

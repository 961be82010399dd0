"""The scheduled and on-demand flows deployed by ``prefect.yaml``.

Each chooses which fiscal years to take in and runs the same steps as ``hikikomori run``.
Paths and the run date come from the worker's environment (``HIKIKOMORI_*``, see settings.py).
"""

from dataclasses import replace
from datetime import date

from prefect import flow
from prefect.utilities.annotations import quote

from hikikomori.domain.fiscal_years import last_ended_fiscal_year
from hikikomori.flows.hikikomori_run import flow_result, run_pipeline
from hikikomori.settings import load_settings


@flow(name="hikikomori-annual-report", log_prints=False)
def annual_report(fiscal_year: int | None = None) -> quote:
    """After the submission deadline: take in the year's last files and rebuild the national tables.

    fiscal_year defaults to the fiscal year that ended most recently (the one just reported).
    """
    settings = load_settings()
    return flow_result(run_pipeline(replace(settings, fiscal_years=(report_fiscal_year(fiscal_year, settings.as_of),))))


def report_fiscal_year(fiscal_year: int | None, as_of: date) -> int:
    """The fiscal year an annual report covers: the one asked for, else the one that ended last."""
    return fiscal_year if fiscal_year is not None else last_ended_fiscal_year(as_of)


@flow(name="hikikomori-intake", log_prints=False)
def intake() -> quote:
    """During the submission window: validate and load whatever arrived, so centers get their reports early."""
    return flow_result(run_pipeline(load_settings()))


@flow(name="hikikomori-backfill", log_prints=False)
def backfill(first_fiscal_year: int, last_fiscal_year: int) -> quote:
    """On demand: take in the files of these fiscal years (inclusive); files of other years stay in the inbox."""
    if first_fiscal_year > last_fiscal_year:
        raise ValueError(f"first_fiscal_year {first_fiscal_year} is after last_fiscal_year {last_fiscal_year}")
    years = tuple(range(first_fiscal_year, last_fiscal_year + 1))
    return flow_result(run_pipeline(replace(load_settings(), fiscal_years=years)))

"""Charts for the national report, drawn with matplotlib in the bundled IPAexGothic font.

The font ships inside the ``matplotlib-fontja`` package (IPA Font License), so Japanese labels
render the same on every machine, whatever fonts the system has.
"""

import io

import matplotlib

matplotlib.use("Agg")  # files only, no display

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib import font_manager
from matplotlib_fontja import get_font_ttf_path

_FONT_NAME = "IPAexGothic"


def _use_japanese_font() -> None:
    if _FONT_NAME not in {font.name for font in font_manager.fontManager.ttflist}:
        font_manager.fontManager.addfont(get_font_ttf_path())
    plt.rcParams["font.family"] = _FONT_NAME


def _png(figure: plt.Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    plt.close(figure)
    return buffer.getvalue()


def consultations_chart(totals: pd.DataFrame) -> bytes:
    """Bars: national consultations per fiscal year."""
    _use_japanese_font()
    figure, axes = plt.subplots(figsize=(8, 4))
    bars = axes.bar(totals["fiscal_year_label"], totals["consultations"], color="#4a7ab5")
    axes.bar_label(bars, labels=[f"{value:,}" for value in totals["consultations"]], fontsize=8)
    axes.set_title("延べ相談件数の推移 / consultations per fiscal year")
    axes.set_ylabel("件数 / consultations")
    axes.yaxis.set_major_formatter(matplotlib.ticker.StrMethodFormatter("{x:,.0f}"))
    axes.tick_params(axis="x", labelsize=8)
    return _png(figure)


def referral_shares_chart(shares: pd.DataFrame) -> bytes:
    """100% stacked bars: each summary group's share of the year's referrals."""
    _use_japanese_font()
    table = shares.pivot_table(
        index="fiscal_year_label", columns=["display_order", "agency_group_label"], values="share_pct", sort=True
    )
    figure, axes = plt.subplots(figsize=(9, 4.5))
    bottom = pd.Series(0.0, index=table.index)
    colours = matplotlib.color_sequences["tab10"]
    labels = table.columns.get_level_values("agency_group_label")
    for position, (column, label) in enumerate(zip(table.columns, labels, strict=True)):
        values = table[column].fillna(0)
        axes.bar(table.index, values, bottom=bottom, label=label, color=colours[position % len(colours)])
        bottom += values
    axes.set_title("関係機関別の割合 / referral shares by agency group")
    axes.set_ylabel("%")
    axes.set_ylim(0, 100)
    axes.tick_params(axis="x", labelsize=8)
    axes.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=8)
    return _png(figure)


def centers_chart(establishment: pd.DataFrame) -> bytes:
    """New centers per year (bars) and the cumulative count, from the registry and as published."""
    _use_japanese_font()
    figure, axes = plt.subplots(figsize=(8, 4))
    labels = establishment["fiscal_year_label"]
    axes.bar(labels, establishment["new_centers"], color="#9cc3e6", label="新規（名簿）/ new (registry)")
    axes.plot(
        labels, establishment["cumulative_centers"], marker="o", color="#1f4e79", label="累計（名簿）/ cumulative"
    )
    published = establishment["published_cumulative"].astype("Float64")
    axes.plot(labels, published, marker="x", linestyle="--", color="#c55a11", label="累計（論文）/ as published")
    axes.set_title("設置自治体数の推移 / centers established")
    axes.set_ylabel("自治体数 / centers")
    axes.tick_params(axis="x", labelsize=7, rotation=45)
    axes.legend(fontsize=8)
    return _png(figure)

"""The national report: HTML, workbook, charts and suppressed per-center publication tables."""

"""The pipeline's steps as plain functions: intake, quality gate, warnings, receipts, the run's safety."""

"""Prefect flows: thin wiring of parameters to the pipeline's steps."""

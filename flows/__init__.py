"""Prefect flows: they orchestrate tasks and the pure core, and do no I/O of their own."""

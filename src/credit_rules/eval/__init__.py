"""Evaluators: the reference interpreter and the bulk (Polars) engine."""

"""Benchmarks: ``python -m tests.benchmarks [NAME ...]`` prints one table per benchmark."""

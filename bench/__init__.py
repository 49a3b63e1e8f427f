"""Benchmarks: scripts that print figures (never tests that fail on time). See BENCHMARKS.md for each command."""

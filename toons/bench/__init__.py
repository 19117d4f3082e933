"""Benchmarks: `toons bench local` (and, with the AWS extras, cost and cold start)."""

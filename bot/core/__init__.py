"""The desk: one inbound value in, one answer out, in one transaction; the router, the
per-user dispatcher, and what handlers get."""

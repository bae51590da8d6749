"""Thin adapters between a platform and the core's typed values."""

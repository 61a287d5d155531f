"""Paired significance tests between runs over the same queries, and their tables."""

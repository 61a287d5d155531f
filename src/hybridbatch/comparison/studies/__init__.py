"""Studies: one research question answered from (reused or trained) comparison runs."""

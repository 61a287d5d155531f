"""One comparison: planning, training and evaluating its runs, seeds, variants, reports and plots."""

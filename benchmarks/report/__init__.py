"""Reports: the result model, summaries and ratios, Markdown tables and PNG plots."""

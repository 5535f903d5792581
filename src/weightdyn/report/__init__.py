"""Reports: the paper's figures and Markdown documents, from the analysis tables."""

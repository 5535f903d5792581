"""Analysis of the runs table: usable runs and events, long tables and summaries, early
prediction of the final loss (split, predictors, classifiers, evaluate), Table I, the
restart policy, and the paper's claims as data (paper, claims, comparison)."""

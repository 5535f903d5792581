"""Analysis of the runs table: events, tables, early prediction of the final loss,
Table I, the restart policy and the paper's claims."""

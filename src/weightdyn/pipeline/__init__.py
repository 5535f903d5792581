"""The pipeline's side of the library: config validation, atomic files with provenance,
progress, and what the rule scripts share. Only the command line (cli) imports it."""

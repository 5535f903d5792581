"""The pipeline's side of the library: config validation, atomic files with provenance,
progress, and what the rule scripts share. Nothing in the library imports it."""

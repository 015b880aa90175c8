"""Rules as code: dated parameters with legal references, rule functions with effective dates, their
evaluation with a trace, and the eligibility answer built on the catalog."""

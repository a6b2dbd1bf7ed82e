"""Quality assurance beside the runtime: invariants, strategies, proofs, scenarios, coverage, lint."""

"""Running cases: compile to durable_rules, evaluate, assemble and explain the answer."""

"""What conditions, verdicts and invariants mean: the one definition every backend derives from."""

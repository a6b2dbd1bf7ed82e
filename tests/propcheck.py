"""The invariant property test, shared by the invariant and mutation tests.

The logic ships with the package (`guidekb.engine.qa.propcheck`, public as
`guidekb.property_test`) so QA teams and the pytest plugin run invariants exactly as this
suite does; this module only keeps the tests' imports short.
"""

from guidekb.engine.qa.propcheck import (
    PASTE,
    InvariantViolated,
    failure_report,
    property_test,
    scenario_text,
)

__all__ = ["PASTE", "InvariantViolated", "failure_report", "property_test", "scenario_text"]

"""Hypothesis strategies for a knowledge base's cases, for QA teams' own property tests.

    from hypothesis import given
    from guidekb.strategies import cases

    @given(cases(kb))
    def test_my_property(case): ...

`cases(kb)` draws every case fact, each possibly unknown, integers mostly at the thresholds
the rules test; `cases_where(kb, condition)` aims cases at making a condition true;
`invariant_cases(kb, invariant)` is what an invariant's property test draws. Every case is
valid for `guidekb.evaluate`, and shrinking goes towards unknown facts. See docs/api.md.
"""

from guidekb.engine.qa.strategies import cases, cases_where, invariant_cases

__all__ = ["cases", "cases_where", "invariant_cases"]

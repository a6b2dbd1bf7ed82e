"""The benchmark knowledge base's 11 rules written by hand against durable_rules' own DSL,
the way a developer would without guidekb: the baseline guidekb's compiler is measured against.

Same fact encoding as guidekb (one case fact, one fact per conclusion), same three-valued
care (negations written as the complement, absence never read as false).
"""

from __future__ import annotations

import itertools
from typing import Any

from durable import engine as durable_engine
from durable.lang import all as all_of
from durable.lang import c, m, ruleset, when_all, when_any

NAME = "handwritten-hsv-bench"
_sessions: dict[str, dict[str, Any]] = {}
_ids = itertools.count()


def _fired(c_: Any, rule: str, derive: tuple[str, ...] = ()) -> None:
    session = _sessions[c_.s.sid]
    if rule in session["fired"]:
        return
    session["fired"].append(rule)
    for name in derive:
        if name not in session["derived"]:
            session["derived"].add(name)
            c_.assert_fact({"_k": "d", "_n": name})


def _derived(name: str) -> Any:
    return (m._k == "d") & (m._n == name)


def define() -> None:
    with ruleset(NAME):
        @when_all((m._k == "case")
                  & ((m.lesion_course == "persistent") | (m.lesion_course == "progressive"))
                  & (m.days_on_therapy >= 10)
                  & ((m.current_antiviral == "valacyclovir") | (m.current_antiviral == "acyclovir")
                     | (m.current_antiviral == "famciclovir")))
        def treatment_failure(c_: Any) -> None:
            _fired(c_, "treatment-failure-no-resolution", ("treatment_failure",))

        @when_all(c.case << ((m._k == "case") & (m.dose_adequate == True) & (m.adherent == True)),  # noqa: E712
                  c.d0 << _derived("treatment_failure"))
        def suspect(c_: Any) -> None:
            _fired(c_, "suspect-resistance-after-failure", ("resistance_suspected",))

        @when_all((m._k == "case") & (m.susceptibility_result == "acyclovir_resistant"))
        def confirmed(c_: Any) -> None:
            _fired(c_, "resistance-confirmed-by-testing", ("resistance_confirmed",))

        @when_all(c.case << ((m._k == "case")
                             & ((m.dose_adequate == False) | (m.adherent == False)  # noqa: E712
                                | -m.dose_adequate | -m.adherent)),
                  c.d0 << _derived("treatment_failure"))
        def verify(c_: Any) -> None:
            _fired(c_, "verify-dosing-before-resistance")

        @when_all(c.case << ((m._k == "case")
                             & (-m.susceptibility_result | (m.susceptibility_result == "not_sent"))),
                  c.d0 << _derived("resistance_suspected"))
        def culture(c_: Any) -> None:
            _fired(c_, "culture-before-switching")

        @when_all(c.case << (m._k == "case"), c.d0 << _derived("resistance_suspected"))
        def no_famciclovir(c_: Any) -> None:
            _fired(c_, "no-famciclovir-when-suspected")

        @when_all(c.case << (m._k == "case"), c.d0 << _derived("resistance_confirmed"))
        def no_acyclovir_family(c_: Any) -> None:
            _fired(c_, "no-acyclovir-family-when-confirmed")

        @when_all(m._k == "case")
        def topical(c_: Any) -> None:
            _fired(c_, "never-topical-acyclovir")

        @when_any(all_of(c.case << (m._k == "case"), c.d0 << _derived("resistance_confirmed")),
                  all_of(c.case << (m._k == "case"), c.d0 << _derived("resistance_suspected")))
        def foscarnet(c_: Any) -> None:
            _fired(c_, "foscarnet-for-resistant-hsv", ("foscarnet_indicated",))

        @when_any(all_of(c.case << ((m._k == "case") & (m.on_foscarnet == True))),  # noqa: E712
                  all_of(c.case << (m._k == "case"), c.d0 << _derived("foscarnet_indicated")))
        def renal(c_: Any) -> None:
            _fired(c_, "foscarnet-renal-monitoring")

        @when_any(all_of(c.case << ((m._k == "case") & (m.renal_impairment == True)  # noqa: E712
                                    & (m.on_foscarnet == True))),  # noqa: E712
                  all_of(c.case << ((m._k == "case") & (m.renal_impairment == True)),  # noqa: E712
                         c.d0 << _derived("foscarnet_indicated")))
        def renal_adjust(c_: Any) -> None:
            _fired(c_, "foscarnet-renal-dose-adjustment")


class HandWritten:
    def __init__(self) -> None:
        class QuietHost(durable_engine.Host):  # type: ignore[misc]
            def _run(self) -> None:
                return None

        from durable import lang

        define()
        name, definition = lang._rulesets.pop(NAME).define()
        self.host = QuietHost()
        self.host.register_rulesets({name: definition})

    def fire(self, case: dict[str, Any]) -> list[str]:
        sid = f"h{next(_ids)}"
        _sessions[sid] = {"fired": [], "derived": set()}
        fact = {"_k": "case", "sid": sid, **case}
        try:
            self.host.assert_fact(NAME, fact)
        except durable_engine.MessageNotHandledException:
            pass
        finally:
            self.host.delete_state(NAME, sid)
        return list(_sessions.pop(sid)["fired"])

"""`guidekb studio`: the live authoring page (docs/authoring.md, "The studio").

A local web server (Starlette on uvicorn) serving one page that shows, and updates as the
author saves files in their own editor, every validation problem, the scenario results,
invariant proofs, lint findings, source coverage and the flowcharts, plus a case playground.

The modules, one job each:

* `work`: what the worker processes compute (knowledge base in, plain JSON-able data out);
* `lanes`: the worker processes themselves (durable_rules is not thread-safe and leaks a little
  memory per compiled knowledge base, so engine work runs in processes that are recycled);
* `state`: the page's state, recomputed in order (validation first) on every save;
* `playground`: the fact form's vocabulary and "save as scenario" (the one write into the KB);
* `events`: the server-sent-event stream that tells the page to fetch the state again;
* `app`: the Starlette routes; `server`: uvicorn on a socket we bind, and a clean Ctrl-C.

Starlette and uvicorn are the optional `studio` extra: nothing here is imported by the rest of
guidekb, and `guidekb studio` says how to install them when they are missing.
"""

"""The bootstrap's default size and seed, in a module that imports nothing.

The scorer uses them and every session stores them (``session_plan.SessionPlan``), so a session
created from the defaults agrees with ``ftui eval metrics``. The session plan reads them from here,
not from ``scoring``: listing sessions (the Evaluate screen's first switch) then loads no metrics.
"""

DEFAULT_N_BOOTSTRAP = 1000
DEFAULT_BOOTSTRAP_SEED = 0

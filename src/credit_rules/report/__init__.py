"""The policy-change impact report (``credit-rules diff``): who gains or loses ``met`` when
a policy changes, and why.

One job per module:

- :mod:`~credit_rules.report.ledgers`: the inputs loaded once, OLD and NEW evaluated by the
  chosen engine (bulk or Spark);
- :mod:`~credit_rules.report.impact`: the report as plain data (:class:`Impact`), from the
  two ledgers;
- :mod:`~credit_rules.report.explanations`: the affected teachers' explanations and the caps
  that cut differently for them;
- :mod:`~credit_rules.report.html`: the self-contained HTML page (plotly figures);
- :mod:`~credit_rules.report.build`: all of it from end to end (:func:`impact_report`,
  :func:`write_report`).
"""

from __future__ import annotations

from credit_rules.report.build import impact_report, write_report
from credit_rules.report.impact import Impact, impact

__all__ = ["Impact", "impact", "impact_report", "write_report"]

"""The outputs of a review: tidy tables (CSV, XLSX, JSON), the HTML report, and the runner
that rebuilds them from a review folder (``metasift run``).

Import from the submodules: :mod:`metasift.report.tables`, :mod:`metasift.report.html`,
:mod:`metasift.report.run`.
"""

"""What more than one test module needs: nodes in-process, databases, clocks, waits, tickets.

Test modules import shared code from here and never from one another or from a ``conftest``
(``tests/test_suite_shape.py`` checks it); ``conftest`` files hold fixtures and hooks only,
built on these helpers.
"""

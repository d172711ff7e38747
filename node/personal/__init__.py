"""The node's side of personal data protection (个人信息保护, issue 12).

What a node keeps and does so that consumers' personal data never rests in clear
(DESIGN.md, principle 11): the province's look-up keys in its key folder, and what uses them.
The rules themselves (suite, retention, the look-up key in force) are the province's rule book
(``core.deadlines.rulebook``); the sealing is ``sync.personal``.
"""

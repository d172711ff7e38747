"""The web front (网页端): the ODR portal, the consumer's page and the supervision view.

DESIGN.md rule 12: pages are thin fronts over the same services every tool calls. The front is
a gRPC client of one node's client port (TLS, checked against the hierarchy's root); it holds
no rules of its own, so every check and every refusal a page shows comes from the node.
``hotline serve-web`` starts it (``node.cli.serve_web``); ``web.app`` builds the application.
"""

"""The gRPC edge: one module per service, servicers only here, plus the one place where our
errors become status codes and the typed client that tools call nodes with.
"""

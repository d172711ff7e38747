"""Officers sign in to their node: the adapters around the rules of ``core.access``.

- ``passwords``: Argon2id hashing and checking (slow on purpose; always off the event loop);
- ``tokens``: session tokens signed and checked with the node's key;
- ``store``: the credentials and sessions tables;
- ``record``: appending to the hash-chained, signed access record;
- ``desk``: the use cases the edge calls (sign in, sign out, check a token, set credentials);
- ``provisioning``: the first security administrator, made on the node's machine.

docs/security.md ("Signing in") says what is protected and how.
"""

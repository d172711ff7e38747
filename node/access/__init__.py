"""Officers, enterprise users and consumers sign in to their node: the adapters around the
rules of ``core.access``.

- ``passwords``: Argon2id hashing and checking (slow on purpose; always off the event loop);
- ``tokens``: session tokens signed and checked with the node's key;
- ``store``: the credentials (officers', enterprise users') and sessions tables;
- ``record``: appending to the hash-chained, signed access record;
- ``accounts``: what a sign-in answers and works on;
- ``desk``: the use cases the edge calls (sign in, sign out, check a token, set credentials);
- ``outsiders``: the desk's part for enterprise users and consumers;
- ``enterprises``: the rows of enterprises and their users;
- ``codes``: consumers' verification codes, kept as a keyed hash;
- ``throttle``: the rate limits' buckets, in memory;
- ``provisioning``: the first security administrator, made on the node's machine.

docs/security.md ("Signing in", "Enterprise accounts", "Consumer access", "Rate limits on
sign-in") says what is protected and how.
"""

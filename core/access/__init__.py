"""Who may act: officers' sign-in, sessions and the access record, as pure rules.

The node (``node.access``) hashes passwords, signs tokens and stores rows; this package says
what the rules are (docs/security.md, "Signing in"):

- ``policy``: the node's numbers (tries before a lockout, its length, session idle time and
  lifetime);
- ``lockout``: whether an account may try now, and what a right or wrong try changes;
- ``totp``: RFC 6238 codes, the second factor;
- ``passwords``: what an acceptable password is;
- ``sessions``: what a token claims, its text form, and whether it still holds;
- ``reasons``: why a sign-in, a token or a call was refused (closed lists);
- ``record``: the access record's rows and their hash chain.
"""

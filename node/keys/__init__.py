"""A node's key-encryption keys (密钥加密密钥) and their escrow (密钥托管).

Personal data is encrypted at rest under a data key per ticket; the node keeps each data key
wrapped under one of its own key-encryption keys (KEKs). ``node.keys.ring`` keeps those KEKs
in the data folder (``keys/``, one owner-only file each, exactly one of them active);
``node.keys.escrow`` seals them for the province's security administrator, so that a lost
laptop or a dead disk does not leave that node's data unreadable for ever. The keys are opaque
bytes with a suite label here: the ciphers that use them live elsewhere.
"""

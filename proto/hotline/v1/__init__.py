"""Generated modules of the ``hotline.v1`` contracts (``python -m proto.generate``)."""

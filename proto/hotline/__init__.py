"""Generated code lives in ``proto.hotline.v1``."""

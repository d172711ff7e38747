"""``hotline demo``: the story, its scenes and its deadline scenes."""

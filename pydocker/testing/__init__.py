"""Test helpers shipped with pydocker so plugin authors can reuse them."""

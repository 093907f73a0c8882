"""One module per command group; ``pydocker.client.catalog`` maps command lines to them."""

"""One module per command group; ``pydocker.client.cli.COMMANDS`` maps names to them."""

"""factwatch: watch news coverage of a topic and say, with evidence, when a key fact changes."""

__version__ = "0.1.0"

"""Sportello, the chat desk of Società Mutua Piemonte ETS."""

__version__ = "0.1.0"

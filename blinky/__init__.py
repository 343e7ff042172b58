"""Blinky: the desk light shows the board's worst state (python -m blinky)."""

"""Simulators shared by the demo archive and the model zoo (seeded, offline)."""

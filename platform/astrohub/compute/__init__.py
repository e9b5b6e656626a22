"""astrohub.compute"""

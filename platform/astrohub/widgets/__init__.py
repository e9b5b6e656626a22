"""astrohub.widgets"""

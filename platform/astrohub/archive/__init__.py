"""astrohub.archive"""

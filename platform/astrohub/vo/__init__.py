"""astrohub.vo"""

"""astrohub.models"""

"""Scrapyd eggs (`scrapyd-deploy`) are built with setup.py; everything else is in pyproject.toml."""

from setuptools import setup

setup()

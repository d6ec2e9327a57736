"""The web layer: Dash pages that read the store and write people's actions."""
from .app import create_app

__all__ = ["create_app"]

"""dre: a self-hosted device reliability platform for embedded fleets."""

from dre.celery import app as celery_app

__all__ = ["celery_app"]

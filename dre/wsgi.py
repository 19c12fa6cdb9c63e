"""The WSGI application gunicorn and runserver serve: device paths through the device
handler (dre/device_handler.py), the rest through Django's."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dre.settings")
site = get_wsgi_application()  # sets Django up first

from dre.device_handler import DeviceRouting  # noqa: E402

application = DeviceRouting(site)

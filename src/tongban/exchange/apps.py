import os
import sys

from django.apps import AppConfig
from django.conf import settings


class ExchangeConfig(AppConfig):
    name = "tongban.exchange"
    verbose_name = "节点消息交换"

    def ready(self) -> None:
        from tongban.exchange import exchanges  # noqa: F401  (registers the exchange.answer handler)

        # The embedded server runs the dispatcher beside the web workers; runserver's autoreloader
        # parent process must not start one too.
        serving = "runserver" in sys.argv and os.environ.get("RUN_MAIN") == "true"
        if settings.TONGBAN_DISPATCH == "thread" and (serving or "--noreload" in sys.argv):
            from tongban.exchange.dispatcher import start_background

            start_background(node=settings.TONGBAN_NODE or None)

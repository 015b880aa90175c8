"""The `tongban` command: Django's management commands with the project's settings."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tongban.settings")
    if sys.argv[1:2] == ["node"]:
        from tongban.serve.roles import prepare_metrics_env

        prepare_metrics_env()
        os.environ.setdefault("TONGBAN_REQUEST_LOG", "1")  # a line per request and per message
    from django.core.management import execute_from_command_line

    execute_from_command_line(["tongban", *sys.argv[1:]])


if __name__ == "__main__":
    main()

from django.apps import AppConfig


class LicencesConfig(AppConfig):
    name = "tongban.licences"
    verbose_name = "电子证照"

    def ready(self) -> None:
        # Register the handler of licence.indexed at the hub.
        from tongban.licences import directory  # noqa: F401

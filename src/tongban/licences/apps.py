from django.apps import AppConfig


class LicencesConfig(AppConfig):
    name = "tongban.licences"
    verbose_name = "电子证照"

    def ready(self) -> None:
        # Register the handlers: licence.indexed at the hub, and the messages of 用证授权.
        from tongban.licences import directory, sharing  # noqa: F401

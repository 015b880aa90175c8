from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


class IdentityConfig(AppConfig):
    name = "tongban.identity"
    verbose_name = "统一身份认证"

    def ready(self) -> None:
        # Registers the account.facts and account.verified handlers, and tells the nodes holding a
        # replica of an account whenever the hub changes what they know of it (however it changed:
        # the API, the admin or a management command).
        from tongban.identity import facts
        from tongban.identity.models import Account, Enterprise, EnterpriseAgent, StaffBinding

        def account_saved(sender: Any, instance: Account, update_fields: Any = None, **kwargs: Any) -> None:
            if update_fields is not None and set(update_fields) <= {"last_login"}:
                return
            facts.announce(instance)

        def post_changed(sender: Any, instance: StaffBinding | EnterpriseAgent, **kwargs: Any) -> None:
            facts.announce(instance.account)

        def enterprise_saved(sender: Any, instance: Enterprise, **kwargs: Any) -> None:
            facts.announce_enterprise(instance)

        post_save.connect(account_saved, sender=Account, dispatch_uid="facts.account", weak=False)
        for model in (StaffBinding, EnterpriseAgent):
            post_save.connect(post_changed, sender=model, dispatch_uid=f"facts.{model.__name__}.save", weak=False)
            post_delete.connect(post_changed, sender=model, dispatch_uid=f"facts.{model.__name__}.delete", weak=False)
        post_save.connect(enterprise_saved, sender=Enterprise, dispatch_uid="facts.enterprise", weak=False)

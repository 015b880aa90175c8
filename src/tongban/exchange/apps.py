from django.apps import AppConfig


class ExchangeConfig(AppConfig):
    name = "tongban.exchange"
    verbose_name = "节点消息交换"

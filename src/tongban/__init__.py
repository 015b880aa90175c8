"""tongban（通办）：跨省通办平台。"""

__version__ = "0.1.0"

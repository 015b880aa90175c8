"""Django settings. One deployable for every node; environment variables choose the deployment.

TONGBAN_DATA_DIR   folder for the SQLite file and uploaded materials (default ./var)
DATABASE_URL       selects PostgreSQL (postgres://…); unset means SQLite in WAL mode
TONGBAN_NODE       the node this process serves (federation); unset in the embedded default,
                   where one process hosts the hub and all provincial nodes
TONGBAN_DISPATCH   "thread" (background dispatcher in the server), "manual" (tests, `tongban dispatch`)
"""

import os
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = Path(os.environ.get("TONGBAN_DATA_DIR", Path.cwd() / "var")).resolve()
# The embedded default keeps its SQLite file and materials here; create it on first use.
DATA_DIR.mkdir(parents=True, exist_ok=True)
CONTENT_DIR = Path(os.environ.get("TONGBAN_CONTENT_DIR", BASE_DIR.parent.parent / "content")).resolve()

SECRET_KEY = os.environ.get("TONGBAN_SECRET_KEY", "tongban-embedded-development-key-change-me-in-production")
DEBUG = os.environ.get("TONGBAN_DEBUG", "0") == "1"
ALLOWED_HOSTS = os.environ.get("TONGBAN_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "ninja",
    "tongban.regions",
    "tongban.identity",
    "tongban.worktime",
    "tongban.catalog",
    "tongban.rules",
    "tongban.audit",
    "tongban.exchange",
    "tongban.cases",
    "tongban.licences",
]

MIDDLEWARE = [
    # First: it times and logs every request, whatever answers it (JSON lines, request id, no personal data).
    "tongban.serve.logs.RequestLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Serves the admin's and the API docs' vendored assets; nothing is loaded from a CDN.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "tongban.urls"
WSGI_APPLICATION = "tongban.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        # The API docs page (templates/tongban/swagger.html: zh-CN, with Swagger UI's labels translated).
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

if os.environ.get("DATABASE_URL"):
    DATABASES = {"default": dj_database_url.parse(os.environ["DATABASE_URL"], conn_max_age=60)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ.get("TONGBAN_SQLITE_PATH", str(DATA_DIR / "tongban.sqlite3")),
            # WAL and a busy timeout let the dispatcher thread and web requests share the file.
            "OPTIONS": {
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            },
        }
    }

AUTH_USER_MODEL = "identity.Account"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
]

LANGUAGE_CODE = "zh-hans"
# Chinese for the Django admin strings its own zh_Hans catalogue leaves in English (locale/zh_Hans/).
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]  # static/tongban/: the docs page's translation of Swagger UI
WHITENOISE_USE_FINDERS = True  # serve straight from the installed apps; no collectstatic step needed
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Uploaded materials are stored by SHA-256 under this folder.
TONGBAN_BLOB_DIR = Path(os.environ.get("TONGBAN_BLOB_DIR", DATA_DIR / "blobs"))
TONGBAN_MAX_UPLOAD_BYTES = int(os.environ.get("TONGBAN_MAX_UPLOAD_BYTES", str(10 * 1024 * 1024)))
DATA_UPLOAD_MAX_MEMORY_SIZE = TONGBAN_MAX_UPLOAD_BYTES + 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = TONGBAN_MAX_UPLOAD_BYTES + 1024 * 1024

TONGBAN_NODE = os.environ.get("TONGBAN_NODE", "")
# The web role (`tongban node`): gunicorn workers and threads per worker, and the proxies whose
# X-Forwarded-* headers it trusts.
TONGBAN_WEB_WORKERS = int(os.environ.get("TONGBAN_WEB_WORKERS", "2"))
TONGBAN_WEB_THREADS = int(os.environ.get("TONGBAN_WEB_THREADS", "4"))
TONGBAN_FORWARDED_ALLOW_IPS = os.environ.get("TONGBAN_FORWARDED_ALLOW_IPS", "127.0.0.1")
# How often the dispatch role looks for messages when idle, and the sweep role runs (seconds).
TONGBAN_DISPATCH_INTERVAL = float(os.environ.get("TONGBAN_DISPATCH_INTERVAL", "0.2"))
TONGBAN_SWEEP_INTERVAL = float(os.environ.get("TONGBAN_SWEEP_INTERVAL", "60"))
TONGBAN_HUB_NODE = "000000"
TONGBAN_DISPATCH = os.environ.get("TONGBAN_DISPATCH", "manual")
# How messages travel: "inprocess" (one database for all nodes) or "rabbitmq" (a node per database).
TONGBAN_TRANSPORT = os.environ.get("TONGBAN_TRANSPORT", "inprocess")
TONGBAN_AMQP_URL = os.environ.get("TONGBAN_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/%2F")
TONGBAN_AMQP_NAMESPACE = os.environ.get("TONGBAN_AMQP_NAMESPACE", "tongban")
# Signed exchange: how long a node works on a cached trust list, how long a rotated key stays valid,
# and how far a message's timestamp may lie from the receiver's clock before it counts as a replay.
TONGBAN_TRUST_GRACE_SECONDS = int(os.environ.get("TONGBAN_TRUST_GRACE_SECONDS", str(7 * 24 * 3600)))
TONGBAN_KEY_OVERLAP_SECONDS = int(os.environ.get("TONGBAN_KEY_OVERLAP_SECONDS", str(24 * 3600)))
# Duplicates are refused by message id for as long as the inbox keeps them (it keeps them all); the window
# refuses anything older than that, and must outlast the longest outage a message may wait out in an outbox.
TONGBAN_REPLAY_WINDOW_SECONDS = int(os.environ.get("TONGBAN_REPLAY_WINDOW_SECONDS", str(30 * 24 * 3600)))
TONGBAN_HUB_URL = os.environ.get("TONGBAN_HUB_URL", "")
# Messages that expect an answer, and how long (seconds) their sender waits before the exchange times out.
TONGBAN_EXCHANGE_TIMEOUTS = {
    "case.created": int(os.environ.get("TONGBAN_TIMEOUT_CASE_CREATED", "600")),
    "case.request": int(os.environ.get("TONGBAN_TIMEOUT_CASE_REQUEST", "600")),
    "licence.indexed": int(os.environ.get("TONGBAN_TIMEOUT_LICENCE_INDEXED", "600")),
    # 用证: the first round trip to the issuing node (its preview), and its release after consent.
    "licence.use_requested": int(os.environ.get("TONGBAN_TIMEOUT_LICENCE_USE", "300")),
    "licence.use_answered": int(os.environ.get("TONGBAN_TIMEOUT_LICENCE_USE", "300")),
}
# The key of the hub's licence directory: holders are indexed by HMAC-SM3 of their ID number or credit
# code under it, so the directory never holds the number. Every node of a federation sets the same key.
TONGBAN_HOLDER_INDEX_KEY = os.environ.get("TONGBAN_HOLDER_INDEX_KEY", SECRET_KEY + ":licence-holders")
# How long a node trusts the state of another node's licence it confirmed through the hub's directory.
TONGBAN_LICENCE_STATE_FRESHNESS_SECONDS = int(os.environ.get("TONGBAN_LICENCE_STATE_FRESHNESS_SECONDS", "300"))
# Access tokens are issued and SM2-signed by the hub; every node verifies them with the hub's key from
# its trust list. A node keeps a replica of each account it has seen, refreshed by the hub's signed
# facts as they change and asked again from the hub when older than this (the longest a password
# change, a logout or a disabled account can go unnoticed at a node that missed the hub's message).
TONGBAN_ACCOUNT_FACTS_MAX_AGE_SECONDS = int(os.environ.get("TONGBAN_ACCOUNT_FACTS_MAX_AGE_SECONDS", "300"))
TONGBAN_TOKEN_TTL_SECONDS = int(os.environ.get("TONGBAN_TOKEN_TTL_SECONDS", str(8 * 3600)))
# Yellow warning when this many working days or fewer remain before the promised deadline.
TONGBAN_YELLOW_WORKING_DAYS = int(os.environ.get("TONGBAN_YELLOW_WORKING_DAYS", "2"))

# Logs: JSON lines on stderr (tongban.serve.logs) — one per request and per message at INFO; set
# TONGBAN_LOG_FORMAT=text for plain lines while developing.
TONGBAN_LOG_LEVEL = os.environ.get("TONGBAN_LOG_LEVEL", "WARNING")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {"()": "tongban.serve.logs.JsonLines"},
        "text": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "text" if os.environ.get("TONGBAN_LOG_FORMAT") == "text" else "json",
        }
    },
    "root": {"handlers": ["console"], "level": TONGBAN_LOG_LEVEL},
    "loggers": {
        # The per-request and per-message lines; `tongban node` sets TONGBAN_REQUEST_LOG=1 for its roles.
        "tongban.request": {"level": "INFO" if os.environ.get("TONGBAN_REQUEST_LOG") == "1" else "WARNING"},
        "tongban.message": {"level": "INFO" if os.environ.get("TONGBAN_REQUEST_LOG") == "1" else "WARNING"},
    },
}

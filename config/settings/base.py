"""Settings shared by every environment; each value comes from the environment."""

from pathlib import Path

import environ
from kombu import Exchange, Queue

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
env.read_env(str(BASE_DIR / ".env"), overwrite=False)

DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env("SECRET_KEY", default="")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# --- Database ---------------------------------------------------------------
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'oms.sqlite3'}")
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web process and worker share the file: WAL lets readers run beside one
    # writer, IMMEDIATE takes the write lock up front instead of failing mid-way.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
    }
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# A PostgreSQL streaming replica of the primary, for reports and analytics only
# (config/db_router.py): they read it inside replica_reads(), everything else reads
# and writes the primary. Tests mirror it onto the test database.
if env("DATABASE_REPLICA_URL", default=""):
    DATABASES["replica"] = env.db("DATABASE_REPLICA_URL")
    DATABASES["replica"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["replica"]["CONN_HEALTH_CHECKS"] = True
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
REPORTING_DATABASE = "replica" if "replica" in DATABASES else "default"
DATABASE_ROUTERS = ["config.db_router.ReplicaRouter"]
# What replica_reads() reads from the replica: the shop's data, not sessions or users.
REPLICA_READ_APPS = ["orders", "inventory", "fulfillment", "tracking", "billing"]
# The console pages served inside replica_reads() (URL namespaces; GET only).
REPLICA_READ_NAMESPACES = ["finance_reports", "analytics"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Applications -----------------------------------------------------------
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "drf_spectacular",
    "orders",
    "inventory",
    "fulfillment",
    "tracking",
    "billing",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "config.middleware.NulBytesRefusedMiddleware",
    "config.middleware.DatabaseUnavailableMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "config.db_router.ReplicaReadsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "config.context_processors.shop",
            ],
        },
    }
]

AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"
    },
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "console:login"
LOGIN_REDIRECT_URL = "console:dashboard"
# Failed console sign-ins allowed per username and client address in the window;
# past it the form refuses without checking the password (orders/login_throttle.py).
LOGIN_FAIL_LIMIT = env.int("LOGIN_FAIL_LIMIT", default=5)
LOGIN_FAIL_WINDOW_SECONDS = env.int("LOGIN_FAIL_WINDOW_SECONDS", default=900)
LOGOUT_REDIRECT_URL = "console:login"

# --- Language, time, money --------------------------------------------------
LANGUAGE_CODE = env("LANGUAGE_CODE", default="zh-hans")
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "config" / "locale"]
TIME_ZONE = env("TIME_ZONE", default="Asia/Shanghai")
USE_I18N = True
USE_TZ = True
SHOP_CURRENCY = env("SHOP_CURRENCY", default="CNY")
# Catalogue prices already contain VAT (Chinese retail): tax is shown, not added.
SHOP_PRICES_INCLUDE_TAX = env.bool("SHOP_PRICES_INCLUDE_TAX", default=True)
# When a sale enters the books: "shipment" (the first parcel leaves) or "delivery".
SALE_RECOGNISED_AT = env.str("SALE_RECOGNISED_AT", default="shipment")
# Empty: the pages say "Our Shop" in the reader's language.
SHOP_NAME = env("SHOP_NAME", default="")
# Phone numbers without a country code are read as numbers of this region.
SHOP_PHONE_REGION = env("SHOP_PHONE_REGION", default="CN")
# Processes that take a marketplace import's chunks at once (PostgreSQL only).
IMPORT_WORKERS = env.int("IMPORT_WORKERS", default=2)
# Base of the links sent to customers (status page); no trailing slash.
SITE_URL = env("SITE_URL", default="http://127.0.0.1:8000")

# --- Static files -----------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = env("STATIC_ROOT", default=str(VAR_DIR / "static"))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
MEDIA_ROOT = env("MEDIA_ROOT", default=str(VAR_DIR / "media"))
MEDIA_URL = "media/"

# --- Email and SMS ----------------------------------------------------------
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="orders@shop.example")
SMS_BACKEND = env("SMS_BACKEND", default="tracking.adapters.sms.LogSmsBackend")
# tracking.adapters.sms.AliyunSmsBackend: Aliyun SMS (dysmsapi) with these.
ALIYUN_SMS_ENDPOINT = env(
    "ALIYUN_SMS_ENDPOINT", default="https://dysmsapi.aliyuncs.com/"
)
ALIYUN_SMS_ACCESS_KEY_ID = env("ALIYUN_SMS_ACCESS_KEY_ID", default="")
ALIYUN_SMS_ACCESS_KEY_SECRET = env("ALIYUN_SMS_ACCESS_KEY_SECRET", default="")
ALIYUN_SMS_SIGN_NAME = env("ALIYUN_SMS_SIGN_NAME", default="")
ALIYUN_SMS_REGION = env("ALIYUN_SMS_REGION", default="cn-hangzhou")
ALIYUN_SMS_TIMEOUT_SECONDS = env.float("ALIYUN_SMS_TIMEOUT_SECONDS", default=10.0)
APP_PUSH_TIMEOUT_SECONDS = env.float("APP_PUSH_TIMEOUT_SECONDS", default=10.0)
# No SMS between these local times (start-end, may wrap midnight; equal: none);
# messages are held until the end instead of dropped.
SMS_QUIET_HOURS = env("SMS_QUIET_HOURS", default="21:00-08:00")
SMS_QUIET_HOURS_TIME_ZONE = env("SMS_QUIET_HOURS_TIME_ZONE", default="Asia/Shanghai")

# --- Celery -----------------------------------------------------------------
# With REDIS_URL (or CELERY_BROKER_URL) tasks go through that broker. Without
# one, the embedded default uses Kombu's filesystem transport under var/ so a
# worker and beat still run on one machine with no broker service.
REDIS_URL = env("REDIS_URL", default="")
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL or "filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = str(VAR_DIR / "broker")
    Path(_broker_dir).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": _broker_dir,
        "data_folder_out": _broker_dir,
        "control_folder": str(VAR_DIR / "broker-control"),
        "store_processed": False,
        "polling_interval": 0.1,
    }
else:
    # A task taken by a worker that died (acks_late) goes back to the queue after
    # this many seconds; the notification flush resends sooner anyway.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600)
    }
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
# A task is acknowledged when it has run, not when a worker takes it: a worker that
# dies mid-task leaves it to another (every task is idempotent). With that, each
# worker process reserves one task at a time (prefetch 1), so a 10-minute import
# never sits behind another in one process while other workers are idle.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# One queue per kind of work, so a slow one (a 100,000-row import, a carrier that
# times out, a webhook receiver that is down) never holds up another (a customer's
# SMS). A worker started without -Q takes every queue; on several machines each
# queue can have workers of its own (README, "Running on several machines").
# The keys are ours; the values are the broker's queue names, renamed with e.g.
# CELERY_QUEUE_NAMES="imports=shop-imports,reports=shop-reports". The default queue
# keeps Celery's own name, so tasks queued before the queues were split still run.
CELERY_QUEUE_NAMES = {
    "default": "celery",
    "notifications": "notifications",
    "tracking": "tracking",
    "imports": "imports",
    "webhooks": "webhooks",
    "reports": "reports",
    **env.dict("CELERY_QUEUE_NAMES", default={}),
}
CELERY_TASK_DEFAULT_QUEUE = CELERY_QUEUE_NAMES["default"]
CELERY_TASK_QUEUES = [
    Queue(name, Exchange(name), routing_key=name)
    for name in CELERY_QUEUE_NAMES.values()
]
# Task name patterns, first match wins; anything else goes to the default queue
# (stock backorders, unpaid-order cancelling, refund checks). Patterns rather than
# names for webhooks and reports, so new tasks of that kind find their queue.
CELERY_TASK_ROUTES = {
    pattern: {"queue": CELERY_QUEUE_NAMES[queue]}
    for pattern, queue in (
        ("*webhook*", "webhooks"),
        ("*report*", "reports"),
        ("*analytics*", "reports"),
        ("*journal*", "reports"),
        ("*export*", "reports"),
        ("billing.tasks.cod_missing_check_task", "reports"),
        ("tracking.tasks.notification*", "notifications"),
        ("tracking.tasks.parcel_*", "tracking"),
        ("tracking.tasks.tracking_*", "tracking"),
        ("tracking.tasks.transit_*", "tracking"),
        ("orders.tasks.import*", "imports"),
    )
}
CELERY_TIMEZONE = TIME_ZONE
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_BEAT_SCHEDULE = {
    "notifications-flush": {
        "task": "tracking.tasks.notifications_flush",
        "schedule": env.float("NOTIFICATIONS_FLUSH_SECONDS", default=60.0),
    },
    "tracking-poll": {
        "task": "tracking.tasks.tracking_poll_due",
        "schedule": env.float("TRACKING_POLL_BEAT_SECONDS", default=60.0),
    },
    "imports-resume": {
        "task": "orders.tasks.imports_resume",
        "schedule": 120.0,
    },
    # Catches up backorder fills whose broker message was lost.
    "backorders-sweep": {
        "task": "inventory.tasks.backorders_sweep",
        "schedule": 600.0,
    },
    # Flags late and lost parcels, and clears flags a new scan has answered.
    "parcel-exceptions-detect": {
        "task": "tracking.tasks.parcel_exceptions_detect_task",
        "schedule": env.float("PARCEL_EXCEPTIONS_BEAT_SECONDS", default=900.0),
    },
    "transit-standards-learn": {
        "task": "tracking.tasks.transit_standards_learn_task",
        "schedule": 6 * 3600.0,
    },
    # Cancels prepaid orders left unpaid longer than UNPAID_ORDER_CANCEL_HOURS.
    "unpaid-orders-cancel": {
        "task": "billing.tasks.unpaid_orders_cancel_task",
        "schedule": env.float("UNPAID_ORDER_CANCEL_BEAT_SECONDS", default=600.0),
    },
    # Lists cash collected on delivery that no remittance brought in (billing/cod.py).
    "cod-missing-check": {
        "task": "billing.tasks.cod_missing_check_task",
        "schedule": 6 * 3600.0,
    },
    # Asks the providers again about refunds they were still processing, in case
    # a check's broker message was lost.
    "provider-refunds-check": {
        "task": "billing.tasks.provider_refunds_check_task",
        "schedule": 1800.0,
    },
    # Sends webhook deliveries that are due: retries, and those the broker lost.
    "webhooks-flush": {
        "task": "tracking.tasks.webhooks_flush",
        "schedule": env.float("WEBHOOKS_FLUSH_SECONDS", default=60.0),
    },
    # Announces stock levels that fell to their reorder point (webhook "stock.low").
    "stock-low-check": {
        "task": "inventory.tasks.stock_low_check",
        "schedule": env.float("STOCK_LOW_CHECK_SECONDS", default=300.0),
    },
    # Copies the stage times of changed orders for the analytics process view.
    "analytics-stage-times": {
        "task": "orders.tasks.analytics_stage_times_refresh_task",
        "schedule": env.float("ANALYTICS_REFRESH_SECONDS", default=300.0),
    },
}

# Notifications stuck in the outbox for this long are sent again by the
# periodic flush (the broker message may have been lost).
NOTIFICATION_RETRY_AFTER_SECONDS = env.int(
    "NOTIFICATION_RETRY_AFTER_SECONDS", default=120
)
NOTIFICATION_MAX_ATTEMPTS = env.int("NOTIFICATION_MAX_ATTEMPTS", default=8)

# Outbound webhooks (tracking/outbound_webhooks.py): each delivery is retried with
# exponential backoff from WEBHOOK_RETRY_BASE_SECONDS up to WEBHOOK_RETRY_MAX_SECONDS
# apart, and given up WEBHOOK_RETRY_HOURS after the event.
WEBHOOK_TIMEOUT_SECONDS = env.float("WEBHOOK_TIMEOUT_SECONDS", default=10.0)
WEBHOOK_RETRY_HOURS = env.float("WEBHOOK_RETRY_HOURS", default=24.0)
WEBHOOK_RETRY_BASE_SECONDS = env.float("WEBHOOK_RETRY_BASE_SECONDS", default=30.0)
WEBHOOK_RETRY_MAX_SECONDS = env.float("WEBHOOK_RETRY_MAX_SECONDS", default=3600.0)
# Endpoints on loopback or private networks are refused unless this is set (tests,
# a receiver inside the shop's own network).
WEBHOOK_ALLOW_PRIVATE_ADDRESSES = env.bool(
    "WEBHOOK_ALLOW_PRIVATE_ADDRESSES", default=False
)
# After a secret is rotated the old one signs too for this long.
WEBHOOK_SECRET_OVERLAP_HOURS = env.float("WEBHOOK_SECRET_OVERLAP_HOURS", default=24.0)

# --- API --------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Shop OMS API",
    "DESCRIPTION": "Order intake and status for the shop's sales channels.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
}
# Pushed orders: how far a signature's timestamp may be from now.
WEBHOOK_TOLERANCE_SECONDS = env.int("WEBHOOK_TOLERANCE_SECONDS", default=300)
# Largest quantity of one SKU accepted on one order line.
ORDER_LINE_MAX_QUANTITY = env.int("ORDER_LINE_MAX_QUANTITY", default=999)
# Most orders one request to /api/v1/orders/batch/ may carry.
API_BATCH_MAX_ORDERS = env.int("API_BATCH_MAX_ORDERS", default=100)
# The order sync feed (/api/v1/sync/orders/) holds back changes younger than this
# (seconds): a transaction still running may commit an older updated_at after a
# caller has paged past it.
SYNC_SETTLE_SECONDS = env.int("SYNC_SETTLE_SECONDS", default=60)
# Orders held for correction longer than this (hours) are flagged in the console:
# "Call the customer".
CORRECTION_CALL_AFTER_HOURS = env.int("CORRECTION_CALL_AFTER_HOURS", default=24)
# Analytics, process view: the target time of each stage in hours; an order in a
# stage longer than that is flagged. Override some as "picked=2,shipped=48"
# (read as text; orders.analytics.stage_targets makes them numbers).
ANALYTICS_STAGE_TARGET_HOURS = {
    "received": 2.0,
    "validated": 24.0,
    "paid": 24.0,
    "allocated": 24.0,
    "picked": 4.0,
    "packed": 24.0,
    "shipped": 72.0,
    "delivered": 168.0,
    **env.dict("ANALYTICS_STAGE_TARGET_HOURS", default={}),
}
# Cash collected on delivery and not remitted by the carrier after this many days
# is listed as missing (billing/cod.py).
COD_REMITTANCE_MISSING_DAYS = env.int("COD_REMITTANCE_MISSING_DAYS", default=7)

# --- Payment providers (billing/providers/) --------------------------------------
# Prepaid orders still unpaid after this many hours are cancelled (stock released).
UNPAID_ORDER_CANCEL_HOURS = env.int("UNPAID_ORDER_CANCEL_HOURS", default=24)
# Alipay: our app id, and Alipay's public key (PEM text, bare base64, or a file path).
ALIPAY_APP_ID = env.str("ALIPAY_APP_ID", default="")
ALIPAY_PUBLIC_KEY = env.str("ALIPAY_PUBLIC_KEY", default="", multiline=True)
# WeChat Pay v3: the platform certificate or public key (PEM text or a file path),
# the APIv3 key (32 characters) that decrypts callbacks, and our merchant id.
WECHATPAY_PLATFORM_PUBLIC_KEY = env.str(
    "WECHATPAY_PLATFORM_PUBLIC_KEY", default="", multiline=True
)
WECHATPAY_APIV3_KEY = env.str("WECHATPAY_APIV3_KEY", default="")
WECHATPAY_MCHID = env.str("WECHATPAY_MCHID", default="")
WECHATPAY_TIMESTAMP_TOLERANCE_SECONDS = env.int(
    "WECHATPAY_TIMESTAMP_TOLERANCE_SECONDS", default=300
)
# Refunds through the providers' APIs (billing/provider_refunds.py): Alipay's
# OpenAPI gateway and our app private key (PEM text, bare base64, or a file path);
# WeChat Pay's API, our merchant private key (apiclient_key.pem) and its
# certificate serial number. The gateways are settings so tests use a local fake.
ALIPAY_GATEWAY_URL = env.str(
    "ALIPAY_GATEWAY_URL", default="https://openapi.alipay.com/gateway.do"
)
ALIPAY_APP_PRIVATE_KEY = env.str("ALIPAY_APP_PRIVATE_KEY", default="", multiline=True)
WECHATPAY_API_URL = env.str(
    "WECHATPAY_API_URL", default="https://api.mch.weixin.qq.com"
)
WECHATPAY_MERCHANT_PRIVATE_KEY = env.str(
    "WECHATPAY_MERCHANT_PRIVATE_KEY", default="", multiline=True
)
WECHATPAY_MERCHANT_SERIAL_NO = env.str("WECHATPAY_MERCHANT_SERIAL_NO", default="")
PAYMENT_PROVIDER_TIMEOUT_SECONDS = env.float(
    "PAYMENT_PROVIDER_TIMEOUT_SECONDS", default=15.0
)

# --- Replenishment (see inventory.selectors.replenishment_rows) ---------------
# Sales velocity is the units reserved over this many days, per day.
REPLENISHMENT_VELOCITY_DAYS = env.int("REPLENISHMENT_VELOCITY_DAYS", default=30)
# Days between two looks at the reorder list: a suggestion covers lead time + this.
REPLENISHMENT_REVIEW_DAYS = env.int("REPLENISHMENT_REVIEW_DAYS", default=14)

# --- Allocation (which warehouse ships an order) ----------------------------
# priority | nearest | whole_order | fewest_parcels; see inventory/allocation.py.
ALLOCATION_STRATEGY = env("ALLOCATION_STRATEGY", default="priority")
# May one order be reserved in (and shipped from) several warehouses?
ALLOCATION_ALLOW_SPLIT = env.bool("ALLOCATION_ALLOW_SPLIT", default=False)

# --- Carrier tracking ---------------------------------------------------------
# Where scans of parcels come from: "kuaidi100", "aftership" or "manual" (staff type
# them). Parcels of the built-in demo carrier (code "demo") always use the demo.
KUAIDI100_CUSTOMER = env("KUAIDI100_CUSTOMER", default="")
KUAIDI100_KEY = env("KUAIDI100_KEY", default="")
# Salt of Kuaidi100's push callbacks; empty: no subscriptions, polling only.
KUAIDI100_SALT = env("KUAIDI100_SALT", default="")
KUAIDI100_URL = env("KUAIDI100_URL", default="https://poll.kuaidi100.com")
AFTERSHIP_API_KEY = env("AFTERSHIP_API_KEY", default="")
AFTERSHIP_WEBHOOK_SECRET = env("AFTERSHIP_WEBHOOK_SECRET", default="")
AFTERSHIP_URL = env(
    "AFTERSHIP_URL", default="https://api.aftership.com/tracking/2024-10"
)
TRACKING_PROVIDER = env(
    "TRACKING_PROVIDER",
    default="kuaidi100"
    if KUAIDI100_KEY
    else "aftership"
    if AFTERSHIP_API_KEY
    else "manual",
)
# Seconds to wait for Kuaidi100's or AfterShip's answer; past it the poll is an
# error kept on the parcel's watch and tried again later.
TRACKING_PROVIDER_TIMEOUT_SECONDS = env.float(
    "TRACKING_PROVIDER_TIMEOUT_SECONDS", default=10.0
)
# Minutes between polls of one parcel; errors back off from it (doubling, ≤ 1 day).
TRACKING_POLL_MINUTES = env.int("TRACKING_POLL_MINUTES", default=120)
# Parcels checked per beat run, spaced TRACKING_POLL_SPACING_SECONDS apart
# (providers limit requests per second).
TRACKING_POLL_BATCH = env.int("TRACKING_POLL_BATCH", default=50)
TRACKING_POLL_SPACING_SECONDS = env.float("TRACKING_POLL_SPACING_SECONDS", default=0.5)
# The demo carrier's clock: 60 makes its hours minutes.
DEMO_CARRIER_TIME_SCALE = env.float("DEMO_CARRIER_TIME_SCALE", default=60.0)
# The demo carrier served over HTTP (manage.py demo_carrier, bench/tracking_poll.py);
# empty: simulated in process.
DEMO_CARRIER_URL = env("DEMO_CARRIER_URL", default="")

# --- Delays and lost parcels (see tracking/parcel_exceptions.py) ------------------
# Hours in transit when no standard is known for the carrier and route.
TRANSIT_STANDARD_DEFAULT_HOURS = env.int("TRANSIT_STANDARD_DEFAULT_HOURS", default=72)
# Standards are learned per carrier and route once this many parcels were delivered
# on it (within TRANSIT_LEARN_DAYS), at this percentile of their transit times.
TRANSIT_LEARN_MIN_PARCELS = env.int("TRANSIT_LEARN_MIN_PARCELS", default=20)
TRANSIT_LEARN_PERCENTILE = env.int("TRANSIT_LEARN_PERCENTILE", default=90)
TRANSIT_LEARN_DAYS = env.int("TRANSIT_LEARN_DAYS", default=180)
# A parcel with no scan for this many hours is delayed, even within its standard.
PARCEL_DELAY_NO_SCAN_HOURS = env.int("PARCEL_DELAY_NO_SCAN_HOURS", default=48)
# ...and probably lost after this many days without a scan,
PARCEL_LOST_NO_SCAN_DAYS = env.int("PARCEL_LOST_NO_SCAN_DAYS", default=7)
# ...or this many hours past the time its standard gives.
PARCEL_LOST_PAST_ESTIMATE_HOURS = env.int(
    "PARCEL_LOST_PAST_ESTIMATE_HOURS", default=120
)

# --- Customer status page -------------------------------------------------
# Lookups (order number + phone) one client address may try per window;
# past it the page answers 429.
TRACK_LOOKUP_LIMIT = env.int("TRACK_LOOKUP_LIMIT", default=20)
TRACK_LOOKUP_WINDOW_SECONDS = env.int("TRACK_LOOKUP_WINDOW_SECONDS", default=600)

# --- Cache ------------------------------------------------------------------
# Shared through Redis when there is one, so rate limits hold across processes.
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": env("CACHE_URL", default=REDIS_URL),
        }
    }

# --- Logging ----------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
}

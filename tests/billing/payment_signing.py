"""Test keys and signed notifications, as Alipay and WeChat Pay would send them."""

import base64
import json
import os

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from billing.providers.alipay import alipay_sign_content

APIV3_KEY = "0123456789abcdef0123456789abcdef"  # 32 bytes, like the real one


def rsa_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def public_pem(key) -> str:
    return (
        key.public_key()
        .public_bytes(
            serialization.Encoding.PEM,
            serialization.PublicFormat.SubjectPublicKeyInfo,
        )
        .decode()
    )


def rsa_sign(key, text: str) -> str:
    signature = key.sign(text.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256())
    return base64.b64encode(signature).decode()


def alipay_notify(key, *, order, amount=None, status="TRADE_SUCCESS", **extra):
    """Return the form fields of an Alipay async notification, signed with ``key``."""
    params = {
        "notify_time": "2026-11-28 10:00:00",
        "notify_type": "trade_status_sync",
        "notify_id": "ac05099524730693a8b330c5ecf72da9786",
        "app_id": "2021000000000001",
        "charset": "utf-8",
        "version": "1.0",
        "out_trade_no": order.number,
        "trade_no": "2026112822001400000000000001",
        "trade_status": status,
        "total_amount": str(order.total if amount is None else amount),
        "subject": "订单 " + order.number,
        **extra,
    }
    params["sign"] = rsa_sign(key, alipay_sign_content(params))
    params["sign_type"] = "RSA2"
    return params


def wechat_body(*, order, amount_fen=None, state="SUCCESS", transaction_id=None):
    """Return the JSON body of a WeChat Pay v3 callback with its resource encrypted."""
    resource = {
        "mchid": "1900000001",
        "appid": "wx0000000000000001",
        "out_trade_no": order.number,
        "transaction_id": transaction_id or "4200000000202611280000000001",
        "trade_type": "JSAPI",
        "trade_state": state,
        "amount": {
            "total": int(order.total * 100) if amount_fen is None else amount_fen,
            "payer_total": 0,
            "currency": "CNY",
        },
    }
    nonce = "fdasflkja484"
    associated = "transaction"
    ciphertext = AESGCM(APIV3_KEY.encode()).encrypt(
        nonce.encode(), json.dumps(resource).encode(), associated.encode()
    )
    return json.dumps(
        {
            "id": "EV-2018022511223320873",
            "create_time": "2026-11-28T10:00:00+08:00",
            "resource_type": "encrypt-resource",
            "event_type": "TRANSACTION.SUCCESS",
            "resource": {
                "algorithm": "AEAD_AES_256_GCM",
                "ciphertext": base64.b64encode(ciphertext).decode(),
                "associated_data": associated,
                "original_type": "transaction",
                "nonce": nonce,
            },
        }
    )


def wechat_headers(key, body: str, *, timestamp: int) -> dict:
    """Return the Wechatpay-* headers of ``body``, signed with ``key``."""
    nonce = base64.b16encode(os.urandom(8)).decode()
    return {
        "HTTP_WECHATPAY_TIMESTAMP": str(timestamp),
        "HTTP_WECHATPAY_NONCE": nonce,
        "HTTP_WECHATPAY_SERIAL": "5157F09EFDC096DE15EBE81A47057A7232F1B8E1",
        "HTTP_WECHATPAY_SIGNATURE": rsa_sign(key, f"{timestamp}\n{nonce}\n{body}\n"),
    }

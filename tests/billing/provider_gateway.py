"""A fake Alipay OpenAPI gateway and WeChat Pay API v3 on 127.0.0.1, for refunds.

It checks our request signatures with our test public key, pays each refund
number back once (as both providers do), and answers signed with the provider's
test key. ``answer`` makes it misbehave: "tamper" changes a signed answer, "unsigned"
drops the signature, "processing" keeps WeChat Pay's refund processing, "refuse"
refuses the refund.
"""

import json
import re
import threading
import time
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl

from billing.providers import rsa_sha256_valid
from billing.providers.alipay import alipay_request_sign_content
from tests.billing.payment_signing import public_pem, rsa_sign

MCHID = "1900000001"
SERIAL_NO = "3775B6A45ACD588826D15E583A95F5DD2C1F2F8D"


class FakeGateway:
    def __init__(self, *, our_key, provider_key):
        self.our_public = our_key.public_key()
        self.provider_key = provider_key
        self.answer = "ok"
        self.wechat_query_status = "SUCCESS"
        self.requests = []  # every call: provider, method, biz or body, verified
        self.refunds = {}  # refund number -> amount paid back (each paid once)
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        threading.Thread(
            target=self.server.serve_forever,
            kwargs={"poll_interval": 0.05},
            daemon=True,
        ).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}"

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    def refund_posts(self, provider):
        """Return the refund numbers of every refund request received, in order."""
        return [
            r["refund_no"]
            for r in self.requests
            if r["provider"] == provider and r["kind"] == "refund"
        ]

    # --- Alipay ----------------------------------------------------------------

    def alipay(self, form: dict) -> tuple[int, dict, str]:
        verified = form.get("sign_type") == "RSA2" and rsa_sha256_valid(
            self.our_public, alipay_request_sign_content(form), form.get("sign", "")
        )
        biz = json.loads(form.get("biz_content") or "{}")
        refund_no = biz.get("out_request_no", "")
        kind = "refund" if form.get("method") == "alipay.trade.refund" else "query"
        self.requests.append(
            {
                "provider": "alipay",
                "kind": kind,
                "form": form,
                "biz": biz,
                "refund_no": refund_no,
                "verified": verified,
            }
        )
        name = form.get("method", "").replace(".", "_") + "_response"
        if not verified:
            node = {
                "code": "40002",
                "msg": "Invalid Arguments",
                "sub_code": "isv.invalid-signature",
            }
        elif self.answer == "refuse":
            node = {
                "code": "40004",
                "msg": "Business Failed",
                "sub_code": "ACQ.TRADE_HAS_FINISHED",
                "sub_msg": "交易已完结",
            }
        elif kind == "refund":
            moved = refund_no not in self.refunds
            self.refunds.setdefault(refund_no, Decimal(biz["refund_amount"]))
            node = {
                "code": "10000",
                "msg": "Success",
                "trade_no": biz.get("trade_no"),
                "out_trade_no": "",
                "buyer_logon_id": "159****5620",
                "fund_change": "Y" if moved else "N",
                "refund_fee": str(self.refunds[refund_no]),
            }
        elif refund_no in self.refunds:
            node = {
                "code": "10000",
                "msg": "Success",
                "trade_no": biz.get("trade_no"),
                "out_request_no": refund_no,
                "refund_amount": str(self.refunds[refund_no]),
                "refund_status": "REFUND_SUCCESS",
            }
        else:
            node = {"code": "10000", "msg": "Success"}
        text = json.dumps(node, ensure_ascii=False)
        sign = rsa_sign(self.provider_key, text)
        if self.answer == "tamper":
            text = text.replace('"10000"', '"10000" ', 1).replace("Success", "success")
        body = f'{{"{name}":{text}'
        if self.answer != "unsigned":
            body += f',"sign":"{sign}"'
        return 200, {"Content-Type": "application/json;charset=utf-8"}, body + "}"

    # --- WeChat Pay --------------------------------------------------------------

    def wechat(self, method: str, path: str, body: str, authorization: str):
        fields = dict(re.findall(r'(\w+)="([^"]*)"', authorization))
        message = (
            f"{method}\n{path}\n{fields.get('timestamp')}\n"
            f"{fields.get('nonce_str')}\n{body}\n"
        )
        verified = (
            authorization.startswith("WECHATPAY2-SHA256-RSA2048 ")
            and fields.get("mchid") == MCHID
            and fields.get("serial_no") == SERIAL_NO
            and rsa_sha256_valid(self.our_public, message, fields.get("signature", ""))
        )
        data = json.loads(body) if body else {}
        kind = "refund" if method == "POST" else "query"
        refund_no = data.get("out_refund_no") or path.rsplit("/", 1)[-1]
        self.requests.append(
            {
                "provider": "wechat",
                "kind": kind,
                "body": data,
                "refund_no": refund_no,
                "verified": verified,
            }
        )
        if not verified:
            return self._wechat_answer(
                401, {"code": "SIGN_ERROR", "message": "签名错误"}
            )
        if self.answer == "refuse":
            return self._wechat_answer(
                403, {"code": "NOT_ENOUGH", "message": "基本账户余额不足"}
            )
        if kind == "refund":
            self.refunds.setdefault(refund_no, data["amount"]["refund"])
            status = "PROCESSING" if self.answer == "processing" else "SUCCESS"
        elif refund_no in self.refunds:
            status = self.wechat_query_status
        else:
            return self._wechat_answer(
                404, {"code": "RESOURCE_NOT_EXISTS", "message": "退款单不存在"}
            )
        return self._wechat_answer(
            200,
            {
                "refund_id": f"5000000038201905270973{refund_no}",
                "out_refund_no": refund_no,
                "transaction_id": data.get("transaction_id", ""),
                "channel": "ORIGINAL",
                "status": status,
                "amount": {"refund": self.refunds[refund_no], "currency": "CNY"},
            },
        )

    def _wechat_answer(self, status: int, data: dict):
        body = json.dumps(data, ensure_ascii=False)
        timestamp, nonce = str(int(time.time())), "5K8264ILTKCH16CQ2502SI8ZNMTM67VS"
        headers = {
            "Content-Type": "application/json",
            "Wechatpay-Timestamp": timestamp,
            "Wechatpay-Nonce": nonce,
            "Wechatpay-Serial": "5157F09EFDC096DE15EBE81A47057A7232F1B8E1",
            "Wechatpay-Signature": rsa_sign(
                self.provider_key, f"{timestamp}\n{nonce}\n{body}\n"
            ),
        }
        if self.answer == "tamper":
            body = body.replace("PROCESSING", "SUCCESS").replace(
                '"SUCCESS"', '"SUCCESS" '
            )
        if self.answer == "unsigned":
            del headers["Wechatpay-Signature"]
        return status, headers, body

    def _handler(self):
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode("utf-8")
                if self.path.startswith("/gateway.do"):
                    status, headers, text = gateway.alipay(dict(parse_qsl(body)))
                else:
                    status, headers, text = gateway.wechat(
                        self.command,
                        self.path,
                        body,
                        self.headers.get("Authorization", ""),
                    )
                data = text.encode("utf-8")
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _serve

            def log_message(self, *args):
                pass

        return Handler


def gateway_settings(settings, *, url: str, ours, providers, timeout: float):
    """Point Alipay and WeChat Pay at the fake gateway at ``url``, with these keys."""
    from cryptography.hazmat.primitives import serialization

    private_pem = ours.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    settings.ALIPAY_APP_ID = "2021000000000001"
    settings.ALIPAY_APP_PRIVATE_KEY = private_pem
    settings.ALIPAY_PUBLIC_KEY = public_pem(providers)
    settings.ALIPAY_GATEWAY_URL = f"{url}/gateway.do"
    settings.WECHATPAY_MCHID = MCHID
    settings.WECHATPAY_MERCHANT_PRIVATE_KEY = private_pem
    settings.WECHATPAY_MERCHANT_SERIAL_NO = SERIAL_NO
    settings.WECHATPAY_PLATFORM_PUBLIC_KEY = public_pem(providers)
    settings.WECHATPAY_API_URL = url
    settings.PAYMENT_PROVIDER_TIMEOUT_SECONDS = timeout

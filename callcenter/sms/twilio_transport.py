"""The Twilio transport on the real ``twilio`` client (``Client(...).messages.create``).

The client is blocking (requests); ``RecordingSmsService`` calls it in a thread.
Tests point it at a local server the supported way: the ``Api`` domain's ``base_url``
(``twilio.base.domain.Domain.base_url``; every Api URL is built from it).
"""

from __future__ import annotations

from requests.exceptions import RequestException
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from callcenter.sms.service import SmsTransportError

# Twilio answers 4xx for a message that can never go (bad number, unsubscribed...);
# 429 and 5xx are worth another try.
_RETRYABLE_STATUS = {408, 409, 429}


class TwilioTransport:
    def __init__(
        self,
        *,
        account_sid: str,
        auth_token: str,
        from_number: str,
        api_base_url: str = "",
        timeout_seconds: float = 10.0,
    ) -> None:
        self.client = Client(account_sid, auth_token,
                             http_client=TwilioHttpClient(timeout=timeout_seconds))
        if api_base_url:
            self.client.api.base_url = api_base_url.rstrip("/")
        self.from_number = from_number

    def send_once(self, *, to: str, body: str) -> str:
        try:
            message = self.client.messages.create(to=to, from_=self.from_number, body=body)
        except TwilioRestException as exc:
            retryable = exc.status >= 500 or exc.status in _RETRYABLE_STATUS
            raise SmsTransportError(f"twilio {exc.status} {exc.code}: {exc.msg}",
                                    retryable=retryable) from exc
        except (RequestException, TwilioException) as exc:  # timeout, refused, bad reply
            raise SmsTransportError(f"twilio unreachable: {type(exc).__name__}: {exc}",
                                    retryable=True) from exc
        return str(message.sid)

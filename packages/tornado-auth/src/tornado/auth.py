"""Third-party login with OpenID 2.0, OAuth 1.0/1.0a and OAuth 2.

Every class here is a mixin for `tornado.web.RequestHandler`.  A login
handler uses the redirect methods (`OpenIdMixin.authenticate_redirect`,
`OAuthMixin.authorize_redirect`, `OAuth2Mixin.authorize_redirect`) to send
the browser to the provider, and ``get_authenticated_user`` when the browser
comes back, to turn what the provider sent into a user dict.  Other handlers
call the provider's API with the stored tokens (`OAuth2Mixin.oauth2_request`,
`FacebookGraphMixin.facebook_request`, `TwitterMixin.twitter_request`).

A provider is described by class attributes (``_OPENID_ENDPOINT``,
``_OAUTH_AUTHORIZE_URL``, ``_OAUTH_ACCESS_TOKEN_URL``, ...); subclass a
mixin, or set them on the handler, to talk to another provider or to a
stand-in during tests.

Example, logging in with Google::

    class GoogleLoginHandler(tornado.web.RequestHandler, tornado.auth.GoogleOAuth2Mixin):
        async def get(self) -> None:
            redirect_uri = "https://your.site/auth/google"
            if self.get_argument("code", None):
                access = await self.get_authenticated_user(
                    redirect_uri=redirect_uri, code=self.get_argument("code")
                )
                user = await self.oauth2_request(
                    self._OAUTH_USERINFO_URL, access_token=access["access_token"]
                )
                ...  # remember the user, e.g. with set_signed_cookie
            else:
                self.authorize_redirect(
                    redirect_uri=redirect_uri,
                    client_id=self.get_google_oauth_settings()["key"],
                    scope=["profile", "email"],
                )

Failures (the provider refused, answered with an error or with something
unreadable, or could not be reached) raise `AuthError`.  Its message names
the endpoint (without its query, which may carry credentials) and quotes the
provider's own error message; any secret the request carried is blanked out
of that message, so logging the error or serving its traceback does not leak
it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
import urllib.parse
import warnings
from collections.abc import Iterable, Mapping
from typing import Any

from tornado import escape
from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPResponse
from tornado.httputil import url_concat
from tornado.web import RequestHandler

__all__ = [
    "AuthError",
    "FacebookGraphMixin",
    "GoogleOAuth2Mixin",
    "OAuth2Mixin",
    "OAuthMixin",
    "OpenIdMixin",
    "TwitterMixin",
]


class AuthError(Exception):
    """Raised when authentication or a provider call fails.

    The message says what went wrong and, when the provider explained
    itself, quotes the provider's message.  When the provider answered with
    an HTTP error status, the exception raised is also an
    `~tornado.httpclient.HTTPClientError` (with ``code`` and ``response``),
    so code written to catch that from Tornado 6's mixins keeps working.
    """


class _ProviderHTTPError(AuthError, HTTPClientError):
    """An `AuthError` for a provider's HTTP error status, that is also the
    `HTTPClientError` Tornado 6's mixins let through."""

    def __init__(self, message: str, error: HTTPClientError) -> None:
        HTTPClientError.__init__(self, error.code, message, error.response)

    def __str__(self) -> str:
        return self.message


# The longest excerpt of a provider's error body quoted in an AuthError:
# enough for any real error message, short enough for one log line.
_MAX_PROVIDER_MESSAGE = 300
_REDACTED = "[redacted]"


def _endpoint(url: str) -> str:
    """``url`` without query, fragment or userinfo: safe to name in messages."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = host if parts.port is None else f"{host}:{parts.port}"
    return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def _redact(text: str, secrets: Iterable[str | bytes | None]) -> str:
    """Blank every secret (and its URL-encoded forms) out of ``text``."""
    for secret in secrets:
        if not secret:
            continue
        plain = escape.to_unicode(secret)
        forms = {plain, urllib.parse.quote(plain, safe=""), urllib.parse.quote_plus(plain)}
        # Longest first, so an encoded form is not half-replaced by a
        # shorter one it contains.
        for form in sorted(forms, key=len, reverse=True):
            text = text.replace(form, _REDACTED)
    return text


def _provider_message(response: HTTPResponse | None) -> str:
    """The provider's own explanation of an error response, if it gave one.

    OAuth 2 providers send JSON ``error``/``error_description`` (RFC 6749
    section 5.2), Graph-style APIs ``{"error": {"message": ...}}``; anything
    else is quoted as text, cut to one short line.
    """
    if response is None or not response.body:
        return ""
    # json and uuid (which imports platform) are imported when first
    # needed, not with the module: most processes never fail a login.
    import json

    text = response.body.decode("utf-8", "replace")
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if isinstance(data, dict):
        error = data.get("error")
        if isinstance(error, dict):
            parts = [str(error[key]) for key in ("type", "message") if error.get(key)]
        else:
            parts = [str(data[key]) for key in ("error", "error_description") if data.get(key)]
            if not parts and data.get("errors"):
                parts = [json.dumps(data["errors"])]
        if parts:
            text = ": ".join(parts)
    text = " ".join(text.split())
    if len(text) > _MAX_PROVIDER_MESSAGE:
        text = text[:_MAX_PROVIDER_MESSAGE] + "..."
    return text


async def _fetch(
    http_client: AsyncHTTPClient,
    url: str,
    secrets: Iterable[str | bytes | None] = (),
    **kwargs: Any,
) -> HTTPResponse:
    """Fetch ``url`` from a provider, turning every failure into `AuthError`.

    ``secrets`` are the credentials this request carries; they are blanked
    out of the error message in case the provider echoes them back.
    """
    secrets = list(secrets)
    endpoint = _endpoint(url)
    try:
        return await http_client.fetch(url, **kwargs)
    except HTTPClientError as e:
        detail = _provider_message(e.response) or e.message
        message = _redact(f"Error from {endpoint}: HTTP {e.code}: {detail}", secrets)
        raise _ProviderHTTPError(message, e) from None
    except OSError as e:
        # Connection refused, reset, TLS failure, DNS: the provider is out
        # of reach.  The OS message names no URL, but redact anyway.
        raise AuthError(_redact(f"Could not reach {endpoint}: {e}", secrets)) from None


def _json_body(response: HTTPResponse, what: str) -> Any:
    """Decode a provider's JSON response; `AuthError` when it is not JSON."""
    try:
        return escape.json_decode(response.body)
    except ValueError:
        raise AuthError(
            f"Invalid {what} from {_endpoint(response.effective_url)}: not JSON"
        ) from None


def _oauth_escape(value: str | bytes) -> str:
    """Percent-encode ``value`` as OAuth 1.0 requires (RFC 5849 section
    3.6): UTF-8, and every byte except ALPHA, DIGIT and ``-._~`` encoded."""
    if isinstance(value, str):
        value = value.encode("utf-8")
    return urllib.parse.quote(value, safe="~")


def _normalized_url(url: str) -> str:
    """The base string URI of RFC 5849 section 3.4.1.2: lowercase scheme and
    host, the port only when it is not the scheme's default, no query."""
    parts = urllib.parse.urlsplit(url)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    port = parts.port
    if port is not None and (scheme, port) not in (("http", 80), ("https", 443)):
        host = f"{host}:{port}"
    return f"{scheme}://{host}{parts.path or '/'}"


def _signature_base_string(method: str, url: str, parameters: Mapping[str, Any]) -> str:
    """The signature base string of RFC 5849 section 3.4.1.

    ``parameters`` are all the request's parameters (query, form body and
    ``oauth_*`` ones, without ``oauth_signature``); they are encoded, then
    sorted by encoded name and value as section 3.4.1.3.2 says.
    """
    pairs = sorted(
        (_oauth_escape(str(name)), _oauth_escape(_text(value)))
        for name, value in parameters.items()
    )
    normalized = "&".join(f"{name}={value}" for name, value in pairs)
    return "&".join(
        _oauth_escape(part) for part in (method.upper(), _normalized_url(url), normalized)
    )


def _text(value: Any) -> str:
    """A parameter value as text: bytes are UTF-8, anything else `str`."""
    if isinstance(value, bytes):
        return value.decode("utf-8")
    return str(value)


def _utf8(value: Any) -> bytes:
    """A secret as bytes: bytes as they are (a token secret read back from
    the cookie need not be text), anything else UTF-8 encoded."""
    if isinstance(value, bytes):
        return value
    return str(value).encode("utf-8")


def _hmac_sha1(key: bytes, base_string: str) -> bytes:
    digest = hmac.new(key, base_string.encode("utf-8"), hashlib.sha1).digest()
    return base64.b64encode(digest)


def _oauth_signature(
    consumer_token: Mapping[str, Any],
    method: str,
    url: str,
    parameters: Mapping[str, Any] = {},  # never mutated
    token: Mapping[str, Any] | None = None,
) -> bytes:
    """Sign a request with HMAC-SHA1 the OAuth 1.0 way (the key joins the
    secrets without encoding them).  Returns the base64 signature."""
    key = _utf8(consumer_token["secret"]) + b"&"
    if token:
        key += _utf8(token["secret"])
    return _hmac_sha1(key, _signature_base_string(method, url, parameters))


def _oauth10a_signature(
    consumer_token: Mapping[str, Any],
    method: str,
    url: str,
    parameters: Mapping[str, Any] = {},  # never mutated
    token: Mapping[str, Any] | None = None,
) -> bytes:
    """Sign a request with HMAC-SHA1 as OAuth 1.0a / RFC 5849 section 3.4.2
    says (each secret percent-encoded in the key).  Returns the base64
    signature."""
    key = _oauth_escape(_utf8(consumer_token["secret"])) + "&"
    if token:
        key += _oauth_escape(_utf8(token["secret"]))
    return _hmac_sha1(key.encode("ascii"), _signature_base_string(method, url, parameters))


def _oauth_parse_response(body: bytes) -> dict[str, Any]:
    """Parse a token response (``oauth_token=...&oauth_token_secret=...``)
    into ``{"key": ..., "secret": ..., <other fields>...}``.

    Raises `AuthError` when either token field is missing.
    """
    fields = urllib.parse.parse_qs(body.decode("utf-8", "replace"), keep_blank_values=False)
    try:
        token: dict[str, Any] = {
            "key": fields["oauth_token"][0],
            "secret": fields["oauth_token_secret"][0],
        }
    except KeyError:
        raise AuthError("Invalid OAuth token response: oauth_token or its secret missing") from None
    for name, values in fields.items():
        if name not in ("oauth_token", "oauth_token_secret"):
            token[name] = values[0]
    return token


def _shared_http_client() -> AsyncHTTPClient:
    # AsyncHTTPClient() is the IOLoop's shared instance; its Configurable
    # constructor is typed as returning Any.
    client: AsyncHTTPClient = AsyncHTTPClient()
    return client


def _nonce() -> str:
    import uuid

    return uuid.uuid4().hex


class OpenIdMixin:
    """OpenID 2.0 authentication with the Attribute Exchange extension.

    Class attributes:

    * ``_OPENID_ENDPOINT``: the provider's endpoint URI.

    .. deprecated:: 6.6
       Identity providers have dropped OpenID 2.0; making a handler with
       this mixin warns with `DeprecationWarning`.  Tornado 7.0 removes it.
    """

    _OPENID_ENDPOINT: str

    def __init__(self) -> None:
        """Warn that the mixin is deprecated (run by
        `RequestHandler.__init__`, which calls ``super().__init__()``)."""
        warnings.warn(
            "OpenIdMixin is deprecated (OpenID 2.0 has no providers left) "
            "and will be removed in Tornado 7.0",
            DeprecationWarning,
            stacklevel=3,
        )
        super().__init__()

    def authenticate_redirect(
        self,
        callback_uri: str | None = None,
        ax_attrs: list[str] = ["name", "email", "language", "username"],  # noqa: B006
    ) -> None:
        """Redirect the browser to the provider to authenticate the user.

        The provider sends the browser back to ``callback_uri`` (default:
        this request's URI), where `get_authenticated_user` finishes the
        login.  ``ax_attrs`` names the user attributes asked for through
        Attribute Exchange (``name``, ``email``, ``language``, ``username``).

        .. versionchanged:: 6.0
           No callback argument; this is an ordinary synchronous method.
        """
        handler = self._handler()
        callback_uri = callback_uri or handler.request.uri
        assert callback_uri is not None
        args = self._openid_args(callback_uri, ax_attrs=ax_attrs)
        handler.redirect(url_concat(self._OPENID_ENDPOINT, args))

    async def get_authenticated_user(
        self, http_client: AsyncHTTPClient | None = None
    ) -> dict[str, Any]:
        """Verify the provider's assertion on this request and return the user.

        The assertion is sent back to the provider's endpoint in a
        ``check_authentication`` request (OpenID 2.0 section 11.4.2), so a
        forged or replayed response is refused by the provider.  Returns a
        dict with the attributes the provider gave (``name``,
        ``first_name``, ``last_name``, ``email``, ``locale``, ``username``)
        and ``claimed_id``.  Raises `AuthError` when the provider does not
        confirm the assertion or cannot be reached.

        .. versionchanged:: 6.0
           The callback argument was removed; await the result instead.
        """
        handler = self._handler()
        args = {name: values[-1] for name, values in handler.request.arguments.items()}
        args["openid.mode"] = b"check_authentication"
        if http_client is None:
            http_client = self.get_auth_http_client()
        response = await _fetch(
            http_client,
            self._OPENID_ENDPOINT,
            method="POST",
            body=urllib.parse.urlencode(args),
        )
        return self._on_authentication_verified(response)

    def _openid_args(
        self,
        callback_uri: str,
        ax_attrs: Iterable[str] = (),
        oauth_scope: str | None = None,
    ) -> dict[str, str]:
        """The query arguments of a ``checkid_setup`` request."""
        handler = self._handler()
        return_to = urllib.parse.urljoin(handler.request.full_url(), callback_uri)
        identifier_select = "http://specs.openid.net/auth/2.0/identifier_select"
        args = {
            "openid.ns": "http://specs.openid.net/auth/2.0",
            "openid.claimed_id": identifier_select,
            "openid.identity": identifier_select,
            "openid.return_to": return_to,
            "openid.realm": urllib.parse.urljoin(return_to, "/"),
            "openid.mode": "checkid_setup",
        }
        ax_attrs = list(ax_attrs)
        if ax_attrs:
            args["openid.ns.ax"] = _AX_NAMESPACE
            args["openid.ax.mode"] = "fetch_request"
            requested: list[str] = []
            for attr in ax_attrs:
                # "name" is asked for in its three forms: providers differ
                # in which ones they fill in.
                for alias in _AX_ALIASES.get(attr, (attr,)):
                    if alias in _AX_TYPES and alias not in requested:
                        requested.append(alias)
            for alias in requested:
                args["openid.ax.type." + alias] = _AX_TYPES[alias]
            args["openid.ax.required"] = ",".join(requested)
        if oauth_scope:
            args["openid.ns.oauth"] = "http://specs.openid.net/extensions/oauth/1.0"
            args["openid.oauth.consumer"] = handler.request.host.split(":")[0]
            args["openid.oauth.scope"] = oauth_scope
        return args

    def _on_authentication_verified(self, response: HTTPResponse) -> dict[str, Any]:
        """Build the user dict once the provider has answered the
        ``check_authentication`` request; `AuthError` unless it said
        ``is_valid:true``."""
        # The answer is key-value form (OpenID 2.0 section 4.1.1): one
        # "key:value" line per field.
        fields = dict(
            line.split(":", 1)
            for line in response.body.decode("utf-8", "replace").splitlines()
            if ":" in line
        )
        if fields.get("is_valid", "").strip() != "true":
            raise AuthError(
                "OpenID provider at %s did not confirm the assertion (is_valid: %s)"
                % (_endpoint(self._OPENID_ENDPOINT), fields.get("is_valid", "missing")[:40])
            )
        handler = self._handler()
        # The Attribute Exchange alias is chosen by the provider: find the
        # openid.ns.<alias> argument that names the AX namespace.
        ax_alias = None
        for name in handler.request.arguments:
            if name.startswith("openid.ns.") and handler.get_argument(name) == _AX_NAMESPACE:
                ax_alias = name[len("openid.ns.") :]
                break

        def ax_value(type_uri: str) -> str:
            if ax_alias is None:
                return ""
            type_prefix = f"openid.{ax_alias}.type."
            for name in handler.request.arguments:
                if name.startswith(type_prefix) and handler.get_argument(name) == type_uri:
                    attr = name[len(type_prefix) :]
                    return str(handler.get_argument(f"openid.{ax_alias}.value.{attr}", ""))
            return ""

        user: dict[str, Any] = {}
        first_name = ax_value(_AX_TYPES["firstname"])
        last_name = ax_value(_AX_TYPES["lastname"])
        name = ax_value(_AX_TYPES["fullname"]) or " ".join(
            part for part in (first_name, last_name) if part
        )
        locale = ax_value(_AX_TYPES["language"]).lower()
        for key, value in (
            ("first_name", first_name),
            ("last_name", last_name),
            ("name", name),
            ("email", ax_value(_AX_TYPES["email"])),
            ("locale", locale),
            ("username", ax_value(_AX_TYPES["username"])),
        ):
            if value:
                user[key] = value
        claimed_id = handler.get_argument("openid.claimed_id", None)
        if claimed_id:
            user["claimed_id"] = claimed_id
        return user

    def get_auth_http_client(self) -> AsyncHTTPClient:
        """Return the `~tornado.httpclient.AsyncHTTPClient` used to talk to
        the provider; override to use another one."""
        return _shared_http_client()

    def _handler(self) -> RequestHandler:
        # The mixins only make sense on a RequestHandler; say so clearly
        # instead of failing later on a missing attribute.
        if not isinstance(self, RequestHandler):
            raise TypeError(f"{type(self).__name__} must also be a RequestHandler")
        return self


_AX_NAMESPACE = "http://openid.net/srv/ax/1.0"
_AX_TYPES = {
    "firstname": "http://axschema.org/namePerson/first",
    "fullname": "http://axschema.org/namePerson",
    "lastname": "http://axschema.org/namePerson/last",
    "email": "http://axschema.org/contact/email",
    "language": "http://axschema.org/pref/language",
    "username": "http://axschema.org/namePerson/friendly",
}
_AX_ALIASES = {"name": ("firstname", "fullname", "lastname")}


class OAuthMixin:
    """OAuth 1.0 and 1.0a (RFC 5849) authorization.

    Class attributes:

    * ``_OAUTH_REQUEST_TOKEN_URL``: where request tokens come from.
    * ``_OAUTH_AUTHORIZE_URL``: where the user authorizes the request token.
    * ``_OAUTH_ACCESS_TOKEN_URL``: where the authorized request token is
      exchanged for an access token.
    * ``_OAUTH_VERSION``: ``"1.0a"`` (the default) or ``"1.0"``.
    * ``_OAUTH_NO_CALLBACKS``: True for providers that take no callback URL.

    Subclasses implement `_oauth_consumer_token` and
    `_oauth_get_user_future`.

    Between the redirect to the provider and the browser's return, the
    request token travels in the ``_oauth_request_token`` cookie; its secret
    is useless without the consumer secret, which never leaves the server.
    """

    _OAUTH_REQUEST_TOKEN_URL: str
    _OAUTH_AUTHORIZE_URL: str
    _OAUTH_ACCESS_TOKEN_URL: str
    _OAUTH_VERSION = "1.0a"
    _OAUTH_NO_CALLBACKS = False

    async def authorize_redirect(
        self,
        callback_uri: str | None = None,
        extra_params: dict[str, Any] | None = None,
        http_client: AsyncHTTPClient | None = None,
    ) -> None:
        """Get a request token and redirect the browser to authorize it.

        ``callback_uri`` is where the provider sends the browser back
        (``"oob"`` for out-of-band: the authorization URL is written as the
        response instead of a redirect); `get_authenticated_user` finishes
        the login there.  ``extra_params`` are added to the request-token
        request (OAuth 1.0a only).  Raises `AuthError` when the provider
        refuses or cannot be reached, and `Exception` when a callback is
        given to a provider with ``_OAUTH_NO_CALLBACKS``.

        .. versionchanged:: 6.0
           The callback argument was removed; await the result instead.
        """
        if callback_uri and self._OAUTH_NO_CALLBACKS:
            raise Exception("This service does not support oauth_callback")
        if http_client is None:
            http_client = self.get_auth_http_client()
        if self._OAUTH_VERSION == "1.0a":
            url = self._oauth_request_token_url(
                callback_uri=callback_uri, extra_params=extra_params
            )
        else:
            url = self._oauth_request_token_url()
        response = await _fetch(http_client, url)
        self._on_request_token(self._OAUTH_AUTHORIZE_URL, callback_uri, response)

    async def get_authenticated_user(
        self, http_client: AsyncHTTPClient | None = None
    ) -> dict[str, Any]:
        """Exchange the authorized request token for an access token and
        return the user.

        Call it from the handler the provider redirects back to.  The
        returned dict is what `_oauth_get_user_future` gives, plus
        ``access_token`` (``{"key": ..., "secret": ...}`` and any other
        field of the provider's answer).  Raises `AuthError` when the
        request-token cookie is missing, malformed or for another token,
        when the provider refuses, and when no user is found;
        `~tornado.web.MissingArgumentError` (400) without ``oauth_token``.

        .. versionchanged:: 6.0
           The callback argument was removed; await the result instead.
        """
        handler = self._handler()
        request_key = escape.utf8(handler.get_argument("oauth_token"))
        verifier = handler.get_argument("oauth_verifier", None)
        cookie = handler.get_cookie("_oauth_request_token")
        if not cookie:
            raise AuthError("Missing OAuth request token cookie")
        # One use only: a replayed callback finds no cookie.
        handler.clear_cookie("_oauth_request_token")
        try:
            encoded_key, encoded_secret = cookie.split("|")
            cookie_key = base64.b64decode(encoded_key, validate=True)
            cookie_secret = base64.b64decode(encoded_secret, validate=True)
        except (ValueError, binascii.Error):
            raise AuthError("Malformed OAuth request token cookie") from None
        if not hmac.compare_digest(cookie_key, request_key):
            raise AuthError("Request token does not match cookie")
        token: dict[str, Any] = {"key": cookie_key, "secret": cookie_secret}
        if verifier:
            token["verifier"] = verifier
        if http_client is None:
            http_client = self.get_auth_http_client()
        response = await _fetch(http_client, self._oauth_access_token_url(token))
        access_token = _oauth_parse_response(response.body)
        user = await self._oauth_get_user_future(access_token)
        if not user:
            raise AuthError("Error getting user")
        user["access_token"] = access_token
        return user

    def _oauth_request_token_url(
        self, callback_uri: str | None = None, extra_params: dict[str, Any] | None = None
    ) -> str:
        """The signed URL that asks the provider for a request token."""
        consumer_token = self._oauth_consumer_token()
        url = self._OAUTH_REQUEST_TOKEN_URL
        args = self._oauth_base_args(consumer_token)
        if self._OAUTH_VERSION == "1.0a":
            if callback_uri == "oob":
                args["oauth_callback"] = "oob"
            elif callback_uri:
                args["oauth_callback"] = urllib.parse.urljoin(
                    self._handler().request.full_url(), callback_uri
                )
            if extra_params:
                args.update(extra_params)
        args["oauth_signature"] = self._sign(consumer_token, "GET", url, args)
        return url_concat(url, args)

    def _on_request_token(
        self, authorize_url: str, callback_uri: str | None, response: HTTPResponse
    ) -> None:
        """Keep the request token in a cookie and send the browser to the
        provider's ``authorize_url`` (or write that URL, for ``"oob"``)."""
        handler = self._handler()
        request_token = _oauth_parse_response(response.body)
        cookie = b"|".join(
            base64.b64encode(escape.utf8(request_token[part])) for part in ("key", "secret")
        )
        handler.set_cookie("_oauth_request_token", cookie)
        args = {"oauth_token": request_token["key"]}
        if callback_uri == "oob":
            handler.finish(url_concat(authorize_url, args))
            return
        if callback_uri:
            args["oauth_callback"] = urllib.parse.urljoin(handler.request.full_url(), callback_uri)
        handler.redirect(url_concat(authorize_url, args))

    def _oauth_access_token_url(self, request_token: Mapping[str, Any]) -> str:
        """The signed URL that exchanges ``request_token`` (with its
        ``verifier``, in OAuth 1.0a) for an access token."""
        consumer_token = self._oauth_consumer_token()
        url = self._OAUTH_ACCESS_TOKEN_URL
        args = self._oauth_base_args(consumer_token)
        args["oauth_token"] = _text(request_token["key"])
        if "verifier" in request_token:
            args["oauth_verifier"] = _text(request_token["verifier"])
        args["oauth_signature"] = self._sign(consumer_token, "GET", url, args, request_token)
        return url_concat(url, args)

    def _oauth_consumer_token(self) -> dict[str, Any]:
        """Return this application's consumer token, ``{"key": ...,
        "secret": ...}``.  Subclasses must implement it."""
        raise NotImplementedError()

    async def _oauth_get_user_future(self, access_token: dict[str, Any]) -> dict[str, Any]:
        """Return the user that ``access_token`` belongs to (a dict), or
        None when there is none.  Subclasses must implement it.

        .. versionchanged:: 5.1
           Subclasses may make this a coroutine.
        """
        raise NotImplementedError()

    def _oauth_request_parameters(
        self,
        url: str,
        access_token: Mapping[str, Any],
        parameters: Mapping[str, Any] = {},  # never mutated
        method: str = "GET",
    ) -> dict[str, Any]:
        """Return the ``oauth_*`` parameters (signature included) of a
        request to ``url`` made with ``access_token``.

        ``parameters`` are the request's other query and form parameters:
        they are signed too, but not returned.
        """
        consumer_token = self._oauth_consumer_token()
        base_args = self._oauth_base_args(consumer_token)
        base_args["oauth_token"] = _text(access_token["key"])
        signed = {**base_args, **parameters}
        base_args["oauth_signature"] = self._sign(consumer_token, method, url, signed, access_token)
        return base_args

    def get_auth_http_client(self) -> AsyncHTTPClient:
        """Return the `~tornado.httpclient.AsyncHTTPClient` used to talk to
        the provider; override to use another one."""
        return _shared_http_client()

    def _oauth_base_args(self, consumer_token: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "oauth_consumer_key": _text(consumer_token["key"]),
            "oauth_signature_method": "HMAC-SHA1",
            "oauth_timestamp": str(int(time.time())),
            "oauth_nonce": _nonce(),
            "oauth_version": "1.0",
        }

    def _sign(
        self,
        consumer_token: Mapping[str, Any],
        method: str,
        url: str,
        parameters: Mapping[str, Any],
        token: Mapping[str, Any] | None = None,
    ) -> str:
        if self._OAUTH_VERSION == "1.0a":
            signature = _oauth10a_signature(consumer_token, method, url, parameters, token)
        else:
            signature = _oauth_signature(consumer_token, method, url, parameters, token)
        return signature.decode("ascii")

    def _handler(self) -> RequestHandler:
        if not isinstance(self, RequestHandler):
            raise TypeError(f"{type(self).__name__} must also be a RequestHandler")
        return self


class OAuth2Mixin:
    """OAuth 2.0 (RFC 6749) authorization-code flow.

    Class attributes:

    * ``_OAUTH_AUTHORIZE_URL``: the provider's authorization endpoint.
    * ``_OAUTH_ACCESS_TOKEN_URL``: the provider's token endpoint.

    The mixin does not manage the ``state`` parameter: pass one in
    ``extra_params`` and compare it when the browser returns (the auth demo
    shows how), to refuse callbacks that the user did not start.
    """

    _OAUTH_AUTHORIZE_URL: str
    _OAUTH_ACCESS_TOKEN_URL: str

    def authorize_redirect(
        self,
        redirect_uri: str | None = None,
        client_id: str | None = None,
        client_secret: str | None = None,
        extra_params: dict[str, Any] | None = None,
        scope: list[str] | None = None,
        response_type: str = "code",
    ) -> None:
        """Redirect the browser to the provider to authorize this application.

        The provider sends the browser back to ``redirect_uri`` with a
        ``code``, which the provider-specific ``get_authenticated_user``
        exchanges for an access token.  ``scope`` is a list of scopes,
        ``extra_params`` other query arguments (such as ``state``).

        .. versionchanged:: 6.0
           No callback argument; this is an ordinary synchronous method.

        .. deprecated:: 6.4
           ``client_secret`` never had any effect (and is never sent to the
           browser); passing it warns with `DeprecationWarning`.
        """
        if client_secret is not None:
            warnings.warn(
                "The client_secret argument of authorize_redirect has no effect and is deprecated",
                DeprecationWarning,
                stacklevel=2,
            )
        args: dict[str, Any] = {"response_type": response_type}
        if redirect_uri is not None:
            args["redirect_uri"] = redirect_uri
        if client_id is not None:
            args["client_id"] = client_id
        if extra_params:
            args.update(extra_params)
        if scope:
            args["scope"] = " ".join(scope)
        self._handler().redirect(url_concat(self._OAUTH_AUTHORIZE_URL, args))

    def _oauth_request_token_url(
        self,
        redirect_uri: str | None = None,
        client_id: str | None = None,
        client_secret: str | None = None,
        code: str | None = None,
        extra_params: dict[str, Any] | None = None,
    ) -> str:
        """The token endpoint URL with the given arguments in its query."""
        args = {
            name: value
            for name, value in (
                ("redirect_uri", redirect_uri),
                ("code", code),
                ("client_id", client_id),
                ("client_secret", client_secret),
            )
            if value is not None
        }
        if extra_params:
            args.update(extra_params)
        return url_concat(self._OAUTH_ACCESS_TOKEN_URL, args)

    async def oauth2_request(
        self,
        url: str,
        access_token: str | None = None,
        post_args: dict[str, Any] | None = None,
        **args: Any,
    ) -> Any:
        """Call an OAuth 2 protected API and return its decoded JSON answer.

        ``access_token`` and ``args`` go in the query string; with
        ``post_args`` the request is a form POST with them as its body,
        otherwise a GET.  Raises `AuthError` (also an `HTTPClientError` for
        an error status) when the call fails or the answer is not JSON.

        .. versionadded:: 4.3

        .. versionchanged:: 6.0
           The callback argument was removed; await the result instead.
        """
        all_args: dict[str, Any] = {}
        if access_token:
            all_args["access_token"] = access_token
        all_args.update(args)
        if all_args:
            url = url_concat(url, all_args)
        http_client = self.get_auth_http_client()
        if post_args is not None:
            response = await _fetch(
                http_client,
                url,
                secrets=[access_token],
                method="POST",
                body=urllib.parse.urlencode(post_args),
            )
        else:
            response = await _fetch(http_client, url, secrets=[access_token])
        return _json_body(response, "API response")

    def get_auth_http_client(self) -> AsyncHTTPClient:
        """Return the `~tornado.httpclient.AsyncHTTPClient` used to talk to
        the provider; override to use another one.

        .. versionadded:: 4.3
        """
        return _shared_http_client()

    def _handler(self) -> RequestHandler:
        if not isinstance(self, RequestHandler):
            raise TypeError(f"{type(self).__name__} must also be a RequestHandler")
        return self


class TwitterMixin(OAuthMixin):
    """Twitter (X) login and API calls over OAuth 1.0a.

    Register the application with Twitter and put its consumer key and
    secret in the ``twitter_consumer_key`` and ``twitter_consumer_secret``
    application settings.  Log in with `authenticate_redirect` (or
    `~OAuthMixin.authorize_redirect` to ask for authorization every time)
    and `~OAuthMixin.get_authenticated_user`; the user dict is Twitter's
    ``account/verify_credentials`` answer plus ``username`` (the screen
    name) and ``access_token``, for later `twitter_request` calls.

    .. deprecated:: 6.3
       It follows version 1.1 of Twitter's API, which Twitter has been
       retiring; it is not kept up with Twitter's changes.
    """

    _OAUTH_REQUEST_TOKEN_URL = "https://api.twitter.com/oauth/request_token"
    _OAUTH_ACCESS_TOKEN_URL = "https://api.twitter.com/oauth/access_token"
    _OAUTH_AUTHORIZE_URL = "https://api.twitter.com/oauth/authorize"
    _OAUTH_AUTHENTICATE_URL = "https://api.twitter.com/oauth/authenticate"
    _OAUTH_NO_CALLBACKS = False
    _TWITTER_BASE_URL = "https://api.twitter.com/1.1"

    async def authenticate_redirect(self, callback_uri: str | None = None) -> None:
        """Like `~OAuthMixin.authorize_redirect`, but a user who already
        authorized this application is sent straight back ("Sign in with
        Twitter").  Raises `AuthError` when Twitter refuses or cannot be
        reached.

        .. versionchanged:: 6.0
           The callback argument was removed; await the result instead.
        """
        http_client = self.get_auth_http_client()
        response = await _fetch(
            http_client, self._oauth_request_token_url(callback_uri=callback_uri)
        )
        self._on_request_token(self._OAUTH_AUTHENTICATE_URL, None, response)

    async def twitter_request(
        self,
        path: str,
        access_token: Mapping[str, Any] | None,
        post_args: dict[str, Any] | None = None,
        **args: Any,
    ) -> Any:
        """Call Twitter's API and return its decoded JSON answer.

        ``path`` is relative to the API (``"/statuses/update"``; ``.json``
        is added), or a full ``http(s)://`` URL for other Twitter APIs.
        ``args`` go in the query string; with ``post_args`` the request is a
        form POST, otherwise a GET.  With ``access_token`` (from
        `~OAuthMixin.get_authenticated_user`) the request is signed.
        Raises `AuthError` (also an `HTTPClientError` for an error status)
        when the call fails or the answer is not JSON.

        .. versionchanged:: 6.0
           The callback argument was removed; await the result instead.
        """
        if path.startswith(("http:", "https:")):
            url = path
        else:
            url = self._TWITTER_BASE_URL + path + ".json"
        secrets: list[str | bytes | None] = []
        if access_token:
            signed = {**args, **(post_args or {})}
            method = "POST" if post_args is not None else "GET"
            args.update(self._oauth_request_parameters(url, access_token, signed, method=method))
            secrets.append(_text(access_token["key"]))
        if args:
            url = url_concat(url, args)
        http_client = self.get_auth_http_client()
        if post_args is not None:
            response = await _fetch(
                http_client,
                url,
                secrets=secrets,
                method="POST",
                body=urllib.parse.urlencode(post_args),
            )
        else:
            response = await _fetch(http_client, url, secrets=secrets)
        return _json_body(response, "Twitter API response")

    def _oauth_consumer_token(self) -> dict[str, Any]:
        handler = self._handler()
        handler.require_setting("twitter_consumer_key", "Twitter OAuth")
        handler.require_setting("twitter_consumer_secret", "Twitter OAuth")
        return {
            "key": handler.settings["twitter_consumer_key"],
            "secret": handler.settings["twitter_consumer_secret"],
        }

    async def _oauth_get_user_future(self, access_token: dict[str, Any]) -> dict[str, Any]:
        user = await self.twitter_request("/account/verify_credentials", access_token=access_token)
        if user:
            user["username"] = user["screen_name"]
        return user  # type: ignore[no-any-return]


class GoogleOAuth2Mixin(OAuth2Mixin):
    """Google login over OAuth 2.

    Create OAuth client credentials in the Google Cloud console (APIs &
    Services, Credentials, OAuth client ID, type "Web application"), list
    your login handler's URL among its authorized redirect URIs, and put
    the client ID and secret in the ``google_oauth`` application setting:
    ``{"key": CLIENT_ID, "secret": CLIENT_SECRET}`` (or override
    `get_google_oauth_settings`).

    Call `~OAuth2Mixin.authorize_redirect`, then `get_authenticated_user`
    with the returned ``code`` to get the tokens, and
    `~OAuth2Mixin.oauth2_request` on ``_OAUTH_USERINFO_URL`` for the user's
    profile.

    .. versionadded:: 3.2
    """

    _OAUTH_AUTHORIZE_URL = "https://accounts.google.com/o/oauth2/v2/auth"
    _OAUTH_ACCESS_TOKEN_URL = "https://www.googleapis.com/oauth2/v4/token"
    _OAUTH_USERINFO_URL = "https://www.googleapis.com/oauth2/v1/userinfo"
    _OAUTH_NO_CALLBACKS = False
    _OAUTH_SETTINGS_KEY = "google_oauth"

    def get_google_oauth_settings(self) -> dict[str, str]:
        """Return the Google client credentials, ``{"key": CLIENT_ID,
        "secret": CLIENT_SECRET}``, from the ``google_oauth`` setting.

        Override to keep them elsewhere (a database, a secrets manager).
        Raises `KeyError` when the setting is missing.

        .. versionadded:: 6.2
        """
        return self._handler().settings[self._OAUTH_SETTINGS_KEY]  # type: ignore[no-any-return]

    async def get_authenticated_user(
        self,
        redirect_uri: str,
        code: str,
        client_id: str | None = None,
        client_secret: str | None = None,
    ) -> dict[str, Any]:
        """Exchange the authorization ``code`` for tokens.

        Returns Google's token response (``access_token``, ``expires_in``,
        ``id_token``, ...).  ``redirect_uri`` must be the one given to
        `~OAuth2Mixin.authorize_redirect`; ``client_id`` and
        ``client_secret`` default to `get_google_oauth_settings`.  Raises
        `AuthError` (also an `HTTPClientError` for an error status) when
        Google refuses the code or cannot be reached.

        .. versionchanged:: 6.2
           ``client_id`` and ``client_secret`` are optional.
        """
        if client_id is None or client_secret is None:
            settings = self.get_google_oauth_settings()
            if client_id is None:
                client_id = settings["key"]
            if client_secret is None:
                client_secret = settings["secret"]
        body = urllib.parse.urlencode(
            {
                "redirect_uri": redirect_uri,
                "code": code,
                "client_id": client_id,
                "client_secret": client_secret,
                "grant_type": "authorization_code",
            }
        )
        response = await _fetch(
            self.get_auth_http_client(),
            self._OAUTH_ACCESS_TOKEN_URL,
            secrets=[client_secret, code],
            method="POST",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            body=body,
        )
        token = _json_body(response, "token response")
        if not isinstance(token, dict):
            raise AuthError(
                f"Invalid token response from {_endpoint(self._OAUTH_ACCESS_TOKEN_URL)}"
            )
        return token


class FacebookGraphMixin(OAuth2Mixin):
    """Facebook login and Graph API calls over OAuth 2.

    Register the application with Facebook, then call
    `~OAuth2Mixin.authorize_redirect` and, with the returned ``code``,
    `get_authenticated_user`; call the Graph API with `facebook_request`.
    """

    _OAUTH_ACCESS_TOKEN_URL = "https://graph.facebook.com/oauth/access_token?"
    _OAUTH_AUTHORIZE_URL = "https://www.facebook.com/dialog/oauth?"
    _OAUTH_NO_CALLBACKS = False
    _FACEBOOK_BASE_URL = "https://graph.facebook.com"

    async def get_authenticated_user(
        self,
        redirect_uri: str,
        client_id: str,
        client_secret: str,
        code: str,
        extra_fields: Iterable[str] | None = None,
    ) -> dict[str, Any] | None:
        """Exchange the authorization ``code`` for an access token and
        return the user.

        The user dict has ``id``, ``name``, ``first_name``, ``last_name``,
        ``locale``, ``picture``, ``link`` and the ``extra_fields`` asked
        for (None when Facebook did not give one), ``access_token`` and
        ``session_expires`` (the token's lifetime in seconds, as a string,
        or None).  The Graph API call is made with an ``appsecret_proof``.
        Returns None when Facebook returns no user.  Raises `AuthError`
        (also an `HTTPClientError` for an error status) when Facebook
        refuses the code or cannot be reached.

        .. versionchanged:: 6.0
           The callback argument was removed; await the result instead.
        """
        fields = {"id", "name", "first_name", "last_name", "locale", "picture", "link"}
        if extra_fields:
            fields.update(extra_fields)
        url = self._oauth_request_token_url(
            redirect_uri=redirect_uri, client_id=client_id, client_secret=client_secret, code=code
        )
        response = await _fetch(self.get_auth_http_client(), url, secrets=[client_secret, code])
        session = _json_body(response, "token response")
        access_token = session.get("access_token") if isinstance(session, dict) else None
        if not isinstance(access_token, str) or not access_token:
            raise AuthError(
                f"No access_token in the token response from {_endpoint(self._OAUTH_ACCESS_TOKEN_URL)}"
            )
        # appsecret_proof (HMAC-SHA256 of the token, keyed with the app
        # secret) proves the call comes from the app, not from someone who
        # only stole the token.
        proof = hmac.new(
            client_secret.encode("utf-8"), access_token.encode("utf-8"), hashlib.sha256
        ).hexdigest()
        user = await self.facebook_request(
            path="/me",
            access_token=access_token,
            appsecret_proof=proof,
            fields=",".join(sorted(fields)),
        )
        if user is None:
            return None
        expires_in = session.get("expires_in")
        result: dict[str, Any] = {field: user.get(field) for field in fields}
        result["access_token"] = access_token
        result["session_expires"] = None if expires_in is None else str(expires_in)
        return result

    async def facebook_request(
        self,
        path: str,
        access_token: str | None = None,
        post_args: dict[str, Any] | None = None,
        **args: Any,
    ) -> Any:
        """Call the Graph API at ``path`` (``"/me/feed"``) and return its
        decoded JSON answer; see `~OAuth2Mixin.oauth2_request` for the
        arguments.  Raises `AuthError` (also an `HTTPClientError` for an
        error status) when the call fails.

        .. versionchanged:: 6.0
           The callback argument was removed; await the result instead.
        """
        url = self._FACEBOOK_BASE_URL + path
        return await self.oauth2_request(
            url, access_token=access_token, post_args=post_args, **args
        )

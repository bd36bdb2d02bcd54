"""OAuth 1.0 signatures against published examples, and the helpers that
parse token responses."""

from __future__ import annotations

import pytest

from tornado.auth import AuthError, _oauth10a_signature, _oauth_parse_response, _oauth_signature

# The example request of the OAuth Core 1.0 specification, appendix A.5.
PHOTOS_PARAMS = {
    "file": "vacation.jpg",
    "size": "original",
    "oauth_consumer_key": "dpf43f3p2l4k3l03",
    "oauth_token": "nnch734d00sl2jdk",
    "oauth_nonce": "kllo9940pd9333jh",
    "oauth_timestamp": "1191242096",
    "oauth_signature_method": "HMAC-SHA1",
    "oauth_version": "1.0",
}
PHOTOS_CONSUMER = {"key": "dpf43f3p2l4k3l03", "secret": "kd94hf93k423kf44"}
PHOTOS_TOKEN = {"key": "nnch734d00sl2jdk", "secret": "pfkkdhi9sl3r4s00"}


@pytest.mark.parametrize("sign", [_oauth_signature, _oauth10a_signature])
def test_oauth_core_example(sign: object) -> None:
    signature = sign(  # type: ignore[operator]
        PHOTOS_CONSUMER, "GET", "http://photos.example.net/photos", PHOTOS_PARAMS, PHOTOS_TOKEN
    )
    assert signature == b"tR3+Ty81lMeYAr/Fid0kMTYa/WM="


def test_twitter_documentation_example() -> None:
    """The worked example of Twitter's "Creating a signature" page: a POST
    whose status needs every encoding rule (spaces, '+', ',', '!')."""
    params = {
        "status": "Hello Ladies + Gentlemen, a signed OAuth request!",
        "include_entities": "true",
        "oauth_consumer_key": "xvz1evFS4wEEPTGEFPHBog",
        "oauth_nonce": "kYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg",
        "oauth_signature_method": "HMAC-SHA1",
        "oauth_timestamp": "1318622958",
        "oauth_token": "370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb",
        "oauth_version": "1.0",
    }
    signature = _oauth10a_signature(
        {"key": "xvz1evFS4wEEPTGEFPHBog", "secret": "kAcSOqF21Fu85e7zjz7ZN2U4ZRhfV3WpwPAoE3Z7kBw"},
        "post",
        "https://api.twitter.com/1.1/statuses/update.json",
        params,
        {"key": "", "secret": "LswwdoUaIvS8ltyTt5jkRh4J50vUPVVHtR2YPi5kE"},
    )
    assert signature == b"hCtSmYh+iHYCEqBWrE7C7hYmtUk="


def test_base_string_uri_normalisation() -> None:
    """Scheme and host are case-insensitive, a default port is left out,
    the query is not part of the base string URI (RFC 5849 3.4.1.2)."""
    reference = _oauth10a_signature(
        PHOTOS_CONSUMER, "GET", "http://photos.example.net/photos", PHOTOS_PARAMS, PHOTOS_TOKEN
    )
    for variant in (
        "HTTP://Photos.Example.NET/photos",
        "http://photos.example.net:80/photos",
        "http://photos.example.net/photos?file=vacation.jpg",
    ):
        assert _oauth10a_signature(
            PHOTOS_CONSUMER, "GET", variant, PHOTOS_PARAMS, PHOTOS_TOKEN
        ) == (reference)
    # A non-default port and another path are part of what is signed.
    for different in ("http://photos.example.net:8080/photos", "http://photos.example.net/Photos"):
        assert _oauth10a_signature(
            PHOTOS_CONSUMER, "GET", different, PHOTOS_PARAMS, PHOTOS_TOKEN
        ) != (reference)


def test_10a_encodes_secrets_in_the_key_and_10_does_not() -> None:
    consumer = {"key": "k", "secret": "a&b c"}
    plain = _oauth_signature(consumer, "GET", "http://x.example/", {"a": "1"})
    encoded = _oauth10a_signature(consumer, "GET", "http://x.example/", {"a": "1"})
    assert plain != encoded
    # With nothing to encode they agree.
    simple = {"key": "k", "secret": "ab"}
    assert _oauth_signature(simple, "GET", "http://x.example/", {"a": "1"}) == _oauth10a_signature(
        simple, "GET", "http://x.example/", {"a": "1"}
    )


def test_parse_token_response() -> None:
    token = _oauth_parse_response(
        b"oauth_token=abc&oauth_token_secret=s%26t&screen_name=alice&user_id=7"
    )
    assert token == {"key": "abc", "secret": "s&t", "screen_name": "alice", "user_id": "7"}


@pytest.mark.parametrize("body", [b"", b"oauth_token=abc", b"<html>error</html>"])
def test_parse_incomplete_token_response(body: bytes) -> None:
    with pytest.raises(AuthError, match="oauth_token or its secret missing"):
        _oauth_parse_response(body)

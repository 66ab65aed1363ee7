use super::*;

// HubSpot's published example secret, URI and bodies.
const SECRET: &str = "yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy";
const URI: &str = "https://www.example.com/webhook_uri";
/// docs faq/v1-request-validation and validating-requests (v1 example).
const DOCS_BODY: &str = r#"[{"eventId":1,"subscriptionId":12345,"portalId":62515,"occurredAt":1564113600000,"subscriptionType":"contact.creation","attemptNumber":0,"objectId":123,"changeSource":"CRM","changeFlag":"NEW","appId":54321}]"#;
/// HubSpot's client libraries' test body (py-client tests/spec/utils/test_signature.py,
/// ruby-client spec/helpers/signature_spec.rb): single quotes, as they have it.
const SDK_BODY: &str = "{'example_field':'example_value'}";

/// Our own v3 signer, for requests the tests need signed at a chosen time.
fn sign_v3(secret: &str, method: &str, uri: &str, body: &[u8], timestamp: &str) -> String {
    let mac = v3_mac(secret, method, uri, body, timestamp).unwrap();
    STANDARD.encode(mac.finalize().into_bytes())
}

fn v1_request<'a>(body: &'a [u8], signature: &'a str) -> WebhookRequest<'a> {
    WebhookRequest {
        method: "POST",
        uri: URI,
        body,
        headers: SignatureHeaders {
            version: Some("v1"),
            signature: Some(signature),
            ..Default::default()
        },
    }
}

fn v2_request<'a>(
    method: &'a str,
    uri: &'a str,
    body: &'a [u8],
    signature: &'a str,
) -> WebhookRequest<'a> {
    WebhookRequest {
        method,
        uri,
        body,
        headers: SignatureHeaders {
            version: Some("v2"),
            signature: Some(signature),
            ..Default::default()
        },
    }
}

fn v3_request<'a>(
    uri: &'a str,
    body: &'a [u8],
    signature: &'a str,
    timestamp: &'a str,
) -> WebhookRequest<'a> {
    WebhookRequest {
        method: "POST",
        uri,
        body,
        headers: SignatureHeaders {
            signature_v3: Some(signature),
            timestamp: Some(timestamp),
            ..Default::default()
        },
    }
}

// --- Published vectors ---------------------------------------------------------------

/// HubSpot docs, "Validate requests using the v1 request signature" (and
/// faq/v1-request-validation): secret `yyyy…`, the contact.creation body.
#[test]
fn v1_docs_example() {
    let expected = "232db2615f3d666fe21a8ec971ac7b5402d33b9a925784df3ca654d05f4817de";
    let request = v1_request(DOCS_BODY.as_bytes(), expected);
    assert_eq!(
        verify_request(SECRET, &request, 0),
        Ok(SignatureVersion::V1)
    );
}

/// py-client tests/spec/utils/test_signature.py `test_get_signature__v1` (also the ruby
/// client's `v1_hash`).
#[test]
fn v1_sdk_example() {
    let expected = "69fc6631a867edd4f9e9e627fc5c1148e3fbdd8b21837b6d2b8901c1fa57f750";
    let request = v1_request(SDK_BODY.as_bytes(), expected);
    assert_eq!(
        verify_request(SECRET, &request, 0),
        Ok(SignatureVersion::V1)
    );
}

/// HubSpot docs, v2 "Example for a GET request" (faq/v2-request-validation): no body.
#[test]
fn v2_docs_get_example() {
    let expected = "eee2dddcc73c94d699f5e395f4b9d454a069a6855fbfa152e91e88823087200e";
    let request = v2_request("GET", URI, b"", expected);
    assert_eq!(
        verify_request(SECRET, &request, 0),
        Ok(SignatureVersion::V2)
    );
}

/// py-client `test_get_signature__v2` (also the ruby client's `v2_hash`): POST, SDK body.
#[test]
fn v2_sdk_post_example() {
    let expected = "4fe4e3a7d3cf09db53be39d0a58130e2aaba074ec123a9e355b876a689a1c383";
    let request = v2_request("POST", URI, SDK_BODY.as_bytes(), expected);
    assert_eq!(
        verify_request(SECRET, &request, 0),
        Ok(SignatureVersion::V2)
    );
}

/// py-client `test_get_signature__v3` (current version; hubspot-api.md §5.6): POST, the
/// SDK body, timestamp `1693657560000`.
#[test]
fn v3_sdk_example() {
    let expected = "K36dawei4A+QBNolUOqo7s91KQDWQ5MXZ/QufNYuk/Y=";
    let ts = "1693657560000";
    let request = v3_request(URI, SDK_BODY.as_bytes(), expected, ts);
    assert_eq!(
        verify_request(SECRET, &request, 1_693_657_560_000 + 1_000),
        Ok(SignatureVersion::V3)
    );
}

/// ruby-client spec/helpers/signature_spec.rb `v3_hash` (and the py-client's earlier
/// version of the same test): timestamp `15000000`, verified "at" that time.
#[test]
fn v3_ruby_sdk_example() {
    let expected = "HPW73RUtKmcYoEDADG0s6MmGFWUzWJKAW07r8RDgcQw=";
    let request = v3_request(URI, SDK_BODY.as_bytes(), expected, "15000000");
    assert_eq!(
        verify_request(SECRET, &request, 15_000_000),
        Ok(SignatureVersion::V3)
    );
}

/// No published v3 vector has escapes in its URI, so this one was derived independently
/// with Python's standard library, applying HubSpot's table by hand (`%3A`→`:`,
/// `%2F`→`/`, `%40`→`@`, `%2c`→`,`; `%20` and `%3D` kept):
///
/// ```text
/// import hmac, hashlib, base64
/// msg = "POST" + "https://hooks.example.com/api/partnerwebhook/a:b/c?to=x@y.z&list=1,2&q=a%20b%3Dc" \
///     + '[{"eventId":7}]' + "1700000000000"
/// base64.b64encode(hmac.new(b"s3cr3t", msg.encode(), hashlib.sha256).digest())
/// ```
#[test]
fn v3_uri_decoding_vector() {
    let sent =
        "https://hooks.example.com/api/partnerwebhook/a%3Ab%2Fc?to=x%40y.z&list=1%2c2&q=a%20b%3Dc";
    let expected = "Oozcf2gMr+GBzsoQdqODCm4GckAgtEvx3DxeinLOfbc=";
    let request = v3_request(sent, br#"[{"eventId":7}]"#, expected, "1700000000000");
    assert_eq!(
        verify_request("s3cr3t", &request, 1_700_000_000_000),
        Ok(SignatureVersion::V3)
    );
    // Hashing the URI as sent (undecoded) does not give HubSpot's signature.
    let undecoded = {
        let mut mac = Hmac::<Sha256>::new_from_slice(b"s3cr3t").unwrap();
        mac.update(b"POST");
        mac.update(sent.as_bytes());
        mac.update(br#"[{"eventId":7}]"#);
        mac.update(b"1700000000000");
        STANDARD.encode(mac.finalize().into_bytes())
    };
    assert_ne!(undecoded, expected);
}

#[test]
fn v3_uri_decodes_only_the_table() {
    assert_eq!(
        v3_uri("https://x.example/a%3Ab%2fc%3F%40%21%24%27%28%29%2A%2C%3B"),
        "https://x.example/a:b/c?@!$'()*,;"
    );
    // Not in the table, or not an escape at all: left as sent; no double decoding.
    assert_eq!(
        v3_uri("https://x.example/p?q=%20%26%3D%253A%zz%+3%"),
        "https://x.example/p?q=%20%26%3D%253A%zz%+3%"
    );
    assert_eq!(v3_uri(URI), URI);
    assert_eq!(v3_uri("https://x.example/é%3A"), "https://x.example/é:");
}

#[test]
fn public_uri_joins_public_url_path_and_query() {
    assert_eq!(
        public_uri(
            "https://spokes.example.com/",
            "/api/partnerwebhook/7",
            Some("a=1")
        ),
        "https://spokes.example.com/api/partnerwebhook/7?a=1"
    );
    assert_eq!(
        public_uri("https://example.com/spokes", "api/partnerwebhook/7", None),
        "https://example.com/spokes/api/partnerwebhook/7"
    );
}

// --- Refusals -------------------------------------------------------------------------

const NOW: i64 = 1_700_000_000_000;
const BODY: &[u8] = br#"[{"eventId":1,"portalId":62515,"subscriptionType":"contact.creation"}]"#;
const HOOK: &str = "https://spokes.example.com/api/partnerwebhook/42";

#[test]
fn v3_tampered_body_is_refused() {
    let ts = NOW.to_string();
    let sig = sign_v3(SECRET, "POST", HOOK, BODY, &ts);
    let tampered = br#"[{"eventId":1,"portalId":62516,"subscriptionType":"contact.creation"}]"#;
    let request = v3_request(HOOK, tampered, &sig, &ts);
    assert_eq!(
        verify_request(SECRET, &request, NOW),
        Err(SignatureError::BadSignature(SignatureVersion::V3))
    );
}

#[test]
fn v3_tampered_uri_is_refused() {
    let ts = NOW.to_string();
    let sig = sign_v3(SECRET, "POST", HOOK, BODY, &ts);
    for uri in [
        "https://spokes.example.com/api/partnerwebhook/43",
        "http://spokes.example.com/api/partnerwebhook/42",
        "https://spokes.example.com/api/partnerwebhook/42/",
        "https://spokes.example.com/api/partnerwebhook/42?x=1",
    ] {
        let request = v3_request(uri, BODY, &sig, &ts);
        assert_eq!(
            verify_request(SECRET, &request, NOW),
            Err(SignatureError::BadSignature(SignatureVersion::V3)),
            "{uri}"
        );
    }
}

#[test]
fn v3_tampered_method_or_timestamp_is_refused() {
    let ts = NOW.to_string();
    let sig = sign_v3(SECRET, "POST", HOOK, BODY, &ts);
    let mut request = v3_request(HOOK, BODY, &sig, &ts);
    request.method = "PUT";
    assert_eq!(
        verify_request(SECRET, &request, NOW),
        Err(SignatureError::BadSignature(SignatureVersion::V3))
    );
    let later = (NOW + 1).to_string();
    let request = v3_request(HOOK, BODY, &sig, &later);
    assert_eq!(
        verify_request(SECRET, &request, NOW),
        Err(SignatureError::BadSignature(SignatureVersion::V3))
    );
}

#[test]
fn wrong_secret_is_refused_for_every_version() {
    let ts = NOW.to_string();
    let sig = sign_v3(SECRET, "POST", HOOK, BODY, &ts);
    let request = v3_request(HOOK, BODY, &sig, &ts);
    assert_eq!(
        verify_request("zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz", &request, NOW),
        Err(SignatureError::BadSignature(SignatureVersion::V3))
    );
    let v1 = hex::encode(v1_digest(SECRET, BODY));
    assert_eq!(
        verify_request("other", &v1_request(BODY, &v1), NOW),
        Err(SignatureError::BadSignature(SignatureVersion::V1))
    );
    let v2 = hex::encode(v2_digest(SECRET, "POST", HOOK, BODY));
    assert_eq!(
        verify_request("other", &v2_request("POST", HOOK, BODY, &v2), NOW),
        Err(SignatureError::BadSignature(SignatureVersion::V2))
    );
}

#[test]
fn v1_and_v2_tampering_is_refused() {
    let v1 = hex::encode(v1_digest(SECRET, BODY));
    assert_eq!(
        verify_request(SECRET, &v1_request(b"[]", &v1), NOW),
        Err(SignatureError::BadSignature(SignatureVersion::V1))
    );
    let v2 = hex::encode(v2_digest(SECRET, "POST", HOOK, BODY));
    let moved = "https://spokes.example.com/api/partnerwebhook/43";
    assert_eq!(
        verify_request(SECRET, &v2_request("POST", moved, BODY, &v2), NOW),
        Err(SignatureError::BadSignature(SignatureVersion::V2))
    );
    // Uppercase hex is the same value.
    let upper = v1.to_uppercase();
    assert_eq!(
        verify_request(SECRET, &v1_request(BODY, &upper), NOW),
        Ok(SignatureVersion::V1)
    );
}

#[test]
fn v3_timestamp_exactly_five_minutes_old_passes_one_ms_more_is_stale() {
    let signed_at = NOW - MAX_AGE_MS;
    let ts = signed_at.to_string();
    let sig = sign_v3(SECRET, "POST", HOOK, BODY, &ts);
    let request = v3_request(HOOK, BODY, &sig, &ts);
    assert_eq!(
        verify_request(SECRET, &request, NOW),
        Ok(SignatureVersion::V3)
    );
    let err = verify_request(SECRET, &request, NOW + 1).unwrap_err();
    assert_eq!(err, SignatureError::StaleTimestamp { age_ms: 300_001 });
    assert!(err.to_string().contains("5 minutes"), "{err}");
    // An hour-old capture is refused the same way.
    assert_eq!(
        verify_request(SECRET, &request, signed_at + 3_600_000),
        Err(SignatureError::StaleTimestamp { age_ms: 3_600_000 })
    );
}

#[test]
fn v3_timestamp_far_in_the_future_is_refused() {
    let ahead = NOW + MAX_FUTURE_SKEW_MS;
    let ts = ahead.to_string();
    let sig = sign_v3(SECRET, "POST", HOOK, BODY, &ts);
    let request = v3_request(HOOK, BODY, &sig, &ts);
    assert_eq!(
        verify_request(SECRET, &request, NOW),
        Ok(SignatureVersion::V3)
    );
    assert_eq!(
        verify_request(SECRET, &request, NOW - 1),
        Err(SignatureError::FutureTimestamp { ahead_ms: 300_001 })
    );
    let year_ahead = (NOW + 365 * 86_400_000).to_string();
    let sig = sign_v3(SECRET, "POST", HOOK, BODY, &year_ahead);
    let request = v3_request(HOOK, BODY, &sig, &year_ahead);
    assert!(matches!(
        verify_request(SECRET, &request, NOW),
        Err(SignatureError::FutureTimestamp { .. })
    ));
}

#[test]
fn v3_is_checked_before_the_clock_so_forgeries_read_as_bad_signatures() {
    let ts = (NOW - 3_600_000).to_string();
    let request = v3_request(
        HOOK,
        BODY,
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        &ts,
    );
    assert_eq!(
        verify_request(SECRET, &request, NOW),
        Err(SignatureError::BadSignature(SignatureVersion::V3))
    );
}

#[test]
fn v3_is_preferred_over_v1_when_both_are_present() {
    fn both<'a>(v1: &'a str, v3: &'a str, ts: &'a str) -> SignatureHeaders<'a> {
        SignatureHeaders {
            version: Some("v1"),
            signature: Some(v1),
            signature_v3: Some(v3),
            timestamp: Some(ts),
        }
    }
    let ts = NOW.to_string();
    let good_v3 = sign_v3(SECRET, "POST", HOOK, BODY, &ts);
    let bad_v3 = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
    let good_v1 = hex::encode(v1_digest(SECRET, BODY));
    let request = |v3| WebhookRequest {
        method: "POST",
        uri: HOOK,
        body: BODY,
        headers: both(&good_v1, v3, &ts),
    };

    assert_eq!(
        verify_request(SECRET, &request(&good_v3), NOW),
        Ok(SignatureVersion::V3)
    );
    // A valid v1 does not rescue a bad v3 ...
    assert_eq!(
        verify_request(SECRET, &request(bad_v3), NOW),
        Err(SignatureError::BadSignature(SignatureVersion::V3))
    );
    // ... nor a stale one (v1 has no timestamp to be stale).
    assert_eq!(
        verify_request(SECRET, &request(&good_v3), NOW + MAX_AGE_MS + 1),
        Err(SignatureError::StaleTimestamp {
            age_ms: MAX_AGE_MS + 1
        })
    );
}

#[test]
fn v1_and_v2_are_accepted_only_without_v3_headers() {
    let v1 = hex::encode(v1_digest(SECRET, BODY));
    let v2 = hex::encode(v2_digest(SECRET, "POST", HOOK, BODY));
    assert_eq!(
        verify_request(SECRET, &v1_request(BODY, &v1), NOW),
        Ok(SignatureVersion::V1)
    );
    assert_eq!(
        verify_request(SECRET, &v2_request("POST", HOOK, BODY, &v2), NOW),
        Ok(SignatureVersion::V2)
    );
    // A v3 header of either kind, alone, means v3 — which then lacks its other half;
    // the valid v1/v2 signature is not consulted.
    for (sig, version) in [(&v1, "v1"), (&v2, "v2")] {
        let mut request = v2_request("POST", HOOK, BODY, sig);
        request.headers.version = Some(version);
        request.headers.timestamp = Some("1700000000000");
        assert_eq!(
            verify_request(SECRET, &request, NOW),
            Err(SignatureError::MissingHeader(SIGNATURE_V3_HEADER))
        );
        request.headers.timestamp = None;
        request.headers.signature_v3 = Some("AAAA");
        assert_eq!(
            verify_request(SECRET, &request, NOW),
            Err(SignatureError::MissingHeader(TIMESTAMP_HEADER))
        );
    }
}

#[test]
fn missing_unknown_and_malformed_headers_are_named() {
    let unsigned = WebhookRequest {
        method: "POST",
        uri: HOOK,
        body: BODY,
        headers: SignatureHeaders::default(),
    };
    assert_eq!(
        verify_request(SECRET, &unsigned, NOW),
        Err(SignatureError::Unsigned)
    );

    let v1 = hex::encode(v1_digest(SECRET, BODY));
    let mut request = v1_request(BODY, &v1);
    request.headers.version = None;
    assert_eq!(
        verify_request(SECRET, &request, NOW),
        Err(SignatureError::MissingHeader(SIGNATURE_VERSION_HEADER))
    );
    request.headers.version = Some("v9");
    assert_eq!(
        verify_request(SECRET, &request, NOW),
        Err(SignatureError::UnknownVersion("v9".into()))
    );
    request.headers.version = Some("v3");
    assert_eq!(
        verify_request(SECRET, &request, NOW),
        Err(SignatureError::MissingHeader(SIGNATURE_V3_HEADER))
    );
    request.headers.version = Some("v1");
    for bad in ["", "not-hex", &v1[..62], &format!("{v1}00")] {
        request.headers.signature = Some(bad);
        assert_eq!(
            verify_request(SECRET, &request, NOW),
            Err(SignatureError::MalformedSignature(SignatureVersion::V1)),
            "{bad:?}"
        );
    }

    let ts = NOW.to_string();
    let sig = sign_v3(SECRET, "POST", HOOK, BODY, &ts);
    for bad_ts in [
        "",
        "-1",
        "+1700000000000",
        " 1700000000000",
        "1.7e12",
        "99999999999999999999",
    ] {
        let request = v3_request(HOOK, BODY, &sig, bad_ts);
        assert_eq!(
            verify_request(SECRET, &request, NOW),
            Err(SignatureError::MalformedTimestamp),
            "{bad_ts:?}"
        );
    }
    for bad_sig in ["not base64!", "AAAA"] {
        let request = v3_request(HOOK, BODY, bad_sig, &ts);
        let err = verify_request(SECRET, &request, NOW).unwrap_err();
        assert!(
            matches!(
                err,
                SignatureError::MalformedSignature(SignatureVersion::V3)
                    | SignatureError::BadSignature(SignatureVersion::V3)
            ),
            "{bad_sig:?}: {err:?}"
        );
    }
}

#[test]
fn messages_never_carry_the_secret_or_the_expected_signature() {
    let secret = "super-secret-client-secret-value";
    let ts = NOW.to_string();
    let expected_v3 = sign_v3(secret, "POST", HOOK, BODY, &ts);
    let expected_v1 = hex::encode(v1_digest(secret, BODY));
    let wrong = sign_v3("other", "POST", HOOK, BODY, &ts);
    let errors = [
        verify_request(secret, &v3_request(HOOK, BODY, &wrong, &ts), NOW),
        verify_request(
            secret,
            &v1_request(BODY, &hex::encode(v1_digest("other", BODY))),
            NOW,
        ),
        verify_request(
            secret,
            &v3_request(HOOK, BODY, &expected_v3, &ts),
            NOW + 3_600_000,
        ),
    ];
    for result in errors {
        let message = result.unwrap_err().to_string();
        assert!(!message.contains(secret), "{message}");
        assert!(!message.contains(&expected_v3), "{message}");
        assert!(!message.contains(&expected_v1), "{message}");
    }
}

#[test]
fn headers_from_a_lookup() {
    let pairs = [
        ("x-hubspot-signature-version", "v1"),
        ("x-hubspot-signature", "abc"),
        ("x-hubspot-signature-v3", "def"),
        ("x-hubspot-request-timestamp", "123"),
    ];
    let headers = SignatureHeaders::from_lookup(|name| {
        pairs
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| *v)
    });
    assert_eq!(
        headers,
        SignatureHeaders {
            version: Some("v1"),
            signature: Some("abc"),
            signature_v3: Some("def"),
            timestamp: Some("123"),
        }
    );
}

// --- Agreement with the simulator ------------------------------------------------------

/// The simulator (which plays HubSpot) signs with its own, separate code; Spokes must
/// verify what it sends, v3 with escapes in the URI included.
#[test]
fn verifies_what_the_simulator_signs() {
    use hubspot_sim::webhooks::signature as sim;

    let secret = "sim-app-client-secret";
    let uri = "https://spokes.example.com/api/partnerwebhook/h%3A1?tag=a%2Fb&q=x%20y";
    let ts = NOW - 42_000;

    let v3 = sim::v3(secret, "POST", uri, BODY, ts);
    let ts_text = ts.to_string();
    let request = WebhookRequest {
        method: "POST",
        uri,
        body: BODY,
        headers: SignatureHeaders {
            version: Some("v1"),
            signature: Some("ignored when v3 is present"),
            signature_v3: Some(&v3),
            timestamp: Some(&ts_text),
        },
    };
    assert_eq!(
        verify_request(secret, &request, NOW),
        Ok(SignatureVersion::V3)
    );

    let v1 = sim::v1(secret, BODY);
    assert_eq!(
        verify_request(secret, &v1_request(BODY, &v1), NOW),
        Ok(SignatureVersion::V1)
    );
    let v2 = sim::v2(secret, "POST", uri, BODY);
    assert_eq!(
        verify_request(secret, &v2_request("POST", uri, BODY, &v2), NOW),
        Ok(SignatureVersion::V2)
    );

    // And the two readings of HubSpot's URI table agree.
    assert_eq!(v3_uri(uri), sim::v3_uri(uri));
}

//! Just enough of X.509 to explain a refused certificate: the issuer's and subject's names
//! (to tell a self-signed certificate from one whose intermediate is missing). Certificates
//! that do not parse simply give no names; verification itself is rustls' and webpki's job.

/// One DER element: (tag, contents, the bytes after it).
fn element(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
        (len, &rest[n..])
    };
    if rest.len() < len {
        return None;
    }
    Some((tag, &rest[..len], &rest[len..]))
}

const SEQUENCE: u8 = 0x30;
const SET: u8 = 0x31;
const OID: u8 = 0x06;
const VERSION: u8 = 0xa0;

/// The raw issuer and subject Names of a certificate.
fn names(der: &[u8]) -> Option<(&[u8], &[u8])> {
    let (SEQUENCE, cert, _) = element(der)? else {
        return None;
    };
    let (SEQUENCE, tbs, _) = element(cert)? else {
        return None;
    };
    let mut rest = tbs;
    if rest.first() == Some(&VERSION) {
        rest = element(rest)?.2;
    }
    let rest = element(rest)?.2; // serialNumber
    let rest = element(rest)?.2; // signature algorithm
    let (SEQUENCE, issuer, rest) = element(rest)? else {
        return None;
    };
    let rest = element(rest)?.2; // validity
    let (SEQUENCE, subject, _) = element(rest)? else {
        return None;
    };
    Some((issuer, subject))
}

/// The common name of a Name (else its organization), for messages.
fn display_name(name: &[u8]) -> Option<String> {
    const CN: &[u8] = &[0x55, 0x04, 0x03];
    const O: &[u8] = &[0x55, 0x04, 0x0a];
    let mut found_o = None;
    let mut rdns = name;
    while let Some((SET, rdn, rest)) = element(rdns) {
        rdns = rest;
        let mut attrs = rdn;
        while let Some((SEQUENCE, attr, rest)) = element(attrs) {
            attrs = rest;
            let Some((OID, oid, value)) = element(attr) else {
                continue;
            };
            let Some((_, text, _)) = element(value) else {
                continue;
            };
            let text = String::from_utf8_lossy(text)
                .chars()
                .filter(|c| !c.is_control())
                .collect::<String>();
            if oid == CN {
                return Some(text);
            }
            if oid == O {
                found_o = Some(text);
            }
        }
    }
    found_o
}

/// Issued by itself (issuer and subject are the same name).
pub fn is_self_signed(der: &[u8]) -> bool {
    names(der).is_some_and(|(issuer, subject)| issuer == subject)
}

/// The issuer's common name.
pub fn issuer_name(der: &[u8]) -> Option<String> {
    names(der).and_then(|(issuer, _)| display_name(issuer))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A version 1 leaf for 127.0.0.1 issued by "php-smtp test CA", and that CA (version 3,
    /// self-signed), made with openssl.
    const LEAF: &str = "MIIBKDCB0AIUb5rrI+FUh6snJO69/+0t9+bMzqswCgYIKoZIzj0EAwIwGzEZMBcGA1UEAwwQcGhwLXNtdHAgdGVzdCBDQTAeFw0yNjEyMDIwMDU2NDRaFw0zNjExMjkwMDU2NDRaMBQxEjAQBgNVBAMMCTEyNy4wLjAuMTBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABFAPgfFwg9HgesULkLz1AfD9r22TXOK4U/U5M7ARFJCMEVyLtGPzl221AykjudPcLh1PMgTOMcFUGBvUV7wlWrkwCgYIKoZIzj0EAwIDRwAwRAIgG+2wq9qZl7DQRl/mFV46WUrmMeKKarmVvq6Khe2pMZkCIDr8wm50bHdJRcsQUfgGPrV1CKqo0rsW+8tH20+gqlVO";
    const CA: &str = "MIIBjDCCATGgAwIBAgIUeg4mSZcLTo1cNlJS+Yh70Kk8TiowCgYIKoZIzj0EAwIwGzEZMBcGA1UEAwwQcGhwLXNtdHAgdGVzdCBDQTAeFw0yNjEyMDIwMDU2NDRaFw0zNjExMjkwMDU2NDRaMBsxGTAXBgNVBAMMEHBocC1zbXRwIHRlc3QgQ0EwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAAQfoauXThqw9JGeDaR5aW+E22iNJSoQTSYhahZjIGoSQo431Ls3fnMAtJTO9nt/6yjy2BBzMMyHcr8EyHD9EURWo1MwUTAdBgNVHQ4EFgQUFhu/nTE6OlE+e3SrUBbceuCEZ9swHwYDVR0jBBgwFoAUFhu/nTE6OlE+e3SrUBbceuCEZ9swDwYDVR0TAQH/BAUwAwEB/zAKBggqhkjOPQQDAgNJADBGAiEAmM6frR8xtgUHOkGJbGdb2/Y0Ws4Euq4VOSdTkSL3ow8CIQDKEvivdjlE6zyp5nFXwxsTr78RTtJT7Bigj8a6Pf1MYw==";

    fn der(b64: &str) -> Vec<u8> {
        crate::encode::base64_decode(b64).expect("base64")
    }

    #[test]
    fn issuer_and_self_signed() {
        let leaf = der(LEAF);
        assert_eq!(issuer_name(&leaf).as_deref(), Some("php-smtp test CA"));
        assert!(!is_self_signed(&leaf));
        let ca = der(CA);
        assert!(is_self_signed(&ca));
        assert_eq!(issuer_name(&ca).as_deref(), Some("php-smtp test CA"));
    }

    #[test]
    fn garbage_gives_nothing() {
        assert_eq!(issuer_name(b"\x30\x03\x02\x01"), None);
        assert!(!is_self_signed(&[]));
    }
}

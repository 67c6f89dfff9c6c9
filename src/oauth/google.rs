//! Google service accounts: the JSON key file and the RS256-signed JWT assertion of the
//! JWT bearer grant (RFC 7523), signed with ring.

use std::path::Path;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ring::rand::SystemRandom;
use ring::signature::{RsaKeyPair, RSA_PKCS1_SHA256};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::PrivatePkcs8KeyDer;
use serde_json::{json, Value};

use super::error::OAuthError;

/// Where Google's keys say to ask for tokens, when the key file does not say.
pub(crate) const DEFAULT_TOKEN_URI: &str = "https://oauth2.googleapis.com/token";

/// A token asked for with an assertion lives this long at most (Google's maximum).
const ASSERTION_LIFETIME: u64 = 3600;

pub(crate) struct ServiceAccount {
    pub client_email: String,
    pub token_uri: Option<String>,
    key_id: Option<String>,
    key: RsaKeyPair,
}

impl std::fmt::Debug for ServiceAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceAccount")
            .field("client_email", &self.client_email)
            .field("token_uri", &self.token_uri)
            .finish_non_exhaustive()
    }
}

impl ServiceAccount {
    /// Reads the key file. Errors name the file and what is wrong, never its content.
    pub fn load(path: &Path) -> Result<ServiceAccount, OAuthError> {
        let bad = |problem: String| OAuthError::KeyFile {
            path: path.to_path_buf(),
            problem,
        };
        let text = std::fs::read(path).map_err(|e| bad(format!("cannot be read ({e})")))?;
        let v: Value = serde_json::from_slice(&text).map_err(|e| {
            // serde_json's message gives the position only, never the text around it.
            bad(format!(
                "is not valid JSON (at line {}, column {})",
                e.line(),
                e.column()
            ))
        })?;
        let field = |name: &str| v.get(name).and_then(Value::as_str).map(str::to_string);
        match field("type").as_deref() {
            Some("service_account") | None => {}
            Some(other) => {
                return Err(bad(format!(
                    "is a key of type \"{other}\", not a service account key"
                )))
            }
        }
        if v.get("installed").is_some() || v.get("web").is_some() {
            return Err(bad(
                "is an OAuth client file, not a service account key".into()
            ));
        }
        let client_email = field("client_email")
            .filter(|s| !s.is_empty())
            .ok_or_else(|| bad("has no \"client_email\"".into()))?;
        let pem = field("private_key").ok_or_else(|| bad("has no \"private_key\"".into()))?;
        let der = PrivatePkcs8KeyDer::from_pem_slice(pem.as_bytes()).map_err(|_| {
            bad("has a \"private_key\" that is not a PEM PKCS#8 key (BEGIN PRIVATE KEY)".into())
        })?;
        let key = RsaKeyPair::from_pkcs8(der.secret_pkcs8_der()).map_err(|e| {
            bad(format!(
                "has a \"private_key\" that is not a usable RSA key ({e})"
            ))
        })?;
        Ok(ServiceAccount {
            client_email,
            token_uri: field("token_uri").filter(|s| !s.is_empty()),
            key_id: field("private_key_id").filter(|s| !s.is_empty()),
            key,
        })
    }

    /// The signed assertion: `iss` the service account, `sub` the mailbox to act for,
    /// `aud` the token URL it is posted to, valid from `now` (seconds since 1970) for an hour.
    pub fn assertion(
        &self,
        sub: &str,
        scope: &str,
        aud: &str,
        now: u64,
    ) -> Result<String, OAuthError> {
        let mut header = json!({ "alg": "RS256", "typ": "JWT" });
        if let Some(kid) = &self.key_id {
            header["kid"] = Value::from(kid.as_str());
        }
        let claims = json!({
            "iss": self.client_email,
            "sub": sub,
            "scope": scope,
            "aud": aud,
            "iat": now,
            "exp": now + ASSERTION_LIFETIME,
        });
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let mut signature = vec![0u8; self.key.public().modulus_len()];
        self.key
            .sign(
                &RSA_PKCS1_SHA256,
                &SystemRandom::new(),
                signing_input.as_bytes(),
                &mut signature,
            )
            .map_err(|_| OAuthError::Config("signing the Google JWT assertion failed".into()))?;
        Ok(format!(
            "{signing_input}.{}",
            URL_SAFE_NO_PAD.encode(signature)
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ring::signature::{UnparsedPublicKey, RSA_PKCS1_2048_8192_SHA256};
    use std::path::PathBuf;

    fn testdata(name: &str) -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("src/oauth/testdata")
            .join(name)
    }

    fn decode(segment: &str) -> Value {
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(segment).unwrap()).unwrap()
    }

    #[test]
    fn assertion_for_a_fixed_key_and_time() {
        let sa = ServiceAccount::load(&testdata("service-account.json")).unwrap();
        assert_eq!(
            sa.client_email,
            "mailer@php-smtp-test.iam.gserviceaccount.com"
        );
        let jwt = sa
            .assertion(
                "wiki@example.org",
                "https://mail.google.com/",
                "https://oauth2.googleapis.com/token",
                1_700_000_000,
            )
            .unwrap();
        let parts: Vec<&str> = jwt.split('.').collect();
        assert_eq!(parts.len(), 3);
        // Exact bytes of the first two segments (serde_json writes keys in sorted order).
        assert_eq!(
            String::from_utf8(URL_SAFE_NO_PAD.decode(parts[0]).unwrap()).unwrap(),
            r#"{"alg":"RS256","kid":"0123456789abcdef0123456789abcdef01234567","typ":"JWT"}"#
        );
        assert_eq!(
            decode(parts[1]),
            json!({
                "iss": "mailer@php-smtp-test.iam.gserviceaccount.com",
                "sub": "wiki@example.org",
                "scope": "https://mail.google.com/",
                "aud": "https://oauth2.googleapis.com/token",
                "iat": 1_700_000_000u64,
                "exp": 1_700_003_600u64,
            })
        );
        // RS256 (PKCS#1 v1.5) is deterministic: same input, same signature; and it verifies
        // with the key's public half.
        let again = sa
            .assertion(
                "wiki@example.org",
                "https://mail.google.com/",
                "https://oauth2.googleapis.com/token",
                1_700_000_000,
            )
            .unwrap();
        assert_eq!(jwt, again);
        let signature = URL_SAFE_NO_PAD.decode(parts[2]).unwrap();
        assert_eq!(signature.len(), 256);
        let public = UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, sa.key.public().as_ref());
        public
            .verify(format!("{}.{}", parts[0], parts[1]).as_bytes(), &signature)
            .unwrap();
    }

    #[test]
    fn key_file_problems_name_the_file_and_never_the_content() {
        let dir = std::env::temp_dir().join(format!("php-smtp-oauth-key-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let write = |name: &str, text: &str| {
            let p = dir.join(name);
            std::fs::write(&p, text).unwrap();
            p
        };
        let cases = [
            ("missing.json", None, "cannot be read"),
            (
                "notjson.json",
                Some("SECRET-LOOKING-CONTENT"),
                "not valid JSON",
            ),
            (
                "client.json",
                Some(r#"{"installed":{"client_secret":"SECRET-LOOKING-CONTENT"}}"#),
                "OAuth client file",
            ),
            (
                "user.json",
                Some(r#"{"type":"authorized_user","refresh_token":"SECRET-LOOKING-CONTENT"}"#),
                "\"authorized_user\"",
            ),
            (
                "noemail.json",
                Some(r#"{"type":"service_account","private_key":"SECRET-LOOKING-CONTENT"}"#),
                "no \"client_email\"",
            ),
            (
                "badpem.json",
                Some(r#"{"client_email":"a@b","private_key":"SECRET-LOOKING-CONTENT"}"#),
                "not a PEM PKCS#8 key",
            ),
        ];
        for (name, text, expect) in cases {
            let path = match text {
                Some(t) => write(name, t),
                None => dir.join(name),
            };
            let msg = ServiceAccount::load(&path).unwrap_err().to_string();
            assert!(msg.contains(expect), "{name}: {msg}");
            assert!(msg.contains(&path.display().to_string()), "{msg}");
            assert!(!msg.contains("SECRET-LOOKING-CONTENT"), "{msg}");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}

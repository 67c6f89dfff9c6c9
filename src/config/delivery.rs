//! The per-message delivery options: DSN (`smtp.dsn_notify`, `smtp.dsn_ret`, and per call
//! `$options['dsn'] = ['notify' => ..., 'ret' => ..., 'envid' => ..., 'required' => ...]`,
//! which the PHP glue hands in as `dsn.<key>` pairs). An envelope id names one message, so it
//! has no ini setting.

use super::values::{as_string, parse_bool};
use super::Value;
use crate::error::{Error, Result};
use crate::message::delivery::{Dsn, Notify, Ret};

/// The keys of the `dsn` option.
const DSN_KEYS: &str = "notify, ret, envid, required";

/// What of the `dsn` option is not an ini setting.
#[derive(Debug, Default)]
pub(super) struct CallDsn {
    envid: Option<Value>,
    required: Option<Value>,
}

/// Takes the `dsn.*` pairs out of the options: `notify` and `ret` go back as the settings
/// they override (`dsn_notify`, `dsn_ret`), the rest is kept for `dsn()`.
pub(super) fn split(options: &[(String, Value)]) -> Result<(Vec<(String, Value)>, CallDsn)> {
    let mut rest = Vec::with_capacity(options.len());
    let mut call = CallDsn::default();
    for (key, value) in options {
        let Some(sub) = key.strip_prefix("dsn.") else {
            rest.push((key.clone(), value.clone()));
            continue;
        };
        match sub.to_ascii_lowercase().as_str() {
            "notify" => rest.push(("dsn_notify".into(), value.clone())),
            "ret" => rest.push(("dsn_ret".into(), value.clone())),
            "envid" => call.envid = Some(value.clone()),
            "required" => call.required = Some(value.clone()),
            _ => {
                return Err(Error::Config(format!(
                    "unknown key \"{sub}\" in option \"dsn\"; its keys are {DSN_KEYS}"
                )))
            }
        }
    }
    Ok((rest, call))
}

/// The DSN parameters from the settings in force and the call's own keys.
pub(super) fn dsn(notify: &str, ret: &str, call: CallDsn) -> Result<Dsn> {
    let envid = match &call.envid {
        Some(v) => Dsn::parse_envid(&as_string("dsn envid", v)?).map_err(Error::Config)?,
        None => None,
    };
    let required = match &call.required {
        Some(Value::Null) | None => false,
        Some(v) => parse_bool("dsn required", v)?,
    };
    Ok(Dsn {
        notify: Notify::parse(notify).map_err(Error::Config)?,
        ret: Ret::parse(ret).map_err(Error::Config)?,
        envid,
        required,
    })
}

#[cfg(test)]
mod tests {
    use crate::config::{Settings, Value};
    use crate::message::delivery::{Notify, Ret};

    fn ini(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name| {
            pairs
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.to_string())
        }
    }

    fn call(pairs: &[(&str, Value)]) -> Vec<(String, Value)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect()
    }

    #[test]
    fn nothing_asked_by_default() {
        let s = Settings::resolve(&ini(&[]), &[]).unwrap();
        assert!(!s.dsn.is_asked());
    }

    #[test]
    fn ini_defaults_and_the_call_overrides_them() {
        let i = ini(&[("dsn_notify", "failure, delay"), ("dsn_ret", "hdrs")]);
        let s = Settings::resolve(&i, &[]).unwrap();
        assert_eq!(s.dsn.notify.unwrap().to_string(), "FAILURE,DELAY");
        assert_eq!(s.dsn.ret, Some(Ret::Hdrs));
        let s = Settings::resolve(
            &i,
            &call(&[
                ("dsn.notify", Value::Str("never".into())),
                ("dsn.envid", Value::Str("reset-7".into())),
                ("dsn.required", Value::Bool(true)),
            ]),
        )
        .unwrap();
        assert_eq!(s.dsn.notify, Some(Notify::never()));
        assert_eq!(s.dsn.ret, Some(Ret::Hdrs));
        assert_eq!(s.dsn.envid.as_deref(), Some("reset-7"));
        assert!(s.dsn.required);
    }

    #[test]
    fn bad_values_and_keys_say_what_is_valid() {
        let err = |pairs: &[(&str, Value)]| {
            Settings::resolve(&ini(&[]), &call(pairs))
                .unwrap_err()
                .to_string()
        };
        assert!(err(&[("dsn.notify", Value::Str("sometimes".into()))])
            .contains("use never, or any of success, failure, delay"));
        assert!(err(&[("dsn.ret", Value::Str("body".into()))]).contains("full"));
        assert!(err(&[("dsn.envid", Value::Str("a\nb".into()))]).contains("printable ASCII"));
        assert!(err(&[("dsn.notfy", Value::Str("x".into()))])
            .contains("unknown key \"notfy\" in option \"dsn\""));
    }
}

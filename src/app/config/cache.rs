//! Where answers that never change are kept between runs (`CACHE_URI`): a path, `s3://bucket/key`,
//! or `off`. Unset, the command line keeps them under `$XDG_CACHE_HOME/ecr-warden/` (or
//! `~/.cache/ecr-warden/`); the Lambda function keeps none unless its template sets one.

use std::path::PathBuf;

use super::ConfigError;
use super::vars::Vars;
use crate::cache::CacheLocation;

/// The file name used when `CACHE_URI` names a folder or an S3 prefix.
const FILE_NAME: &str = "cache.json";

pub(super) fn cache_location(vars: &Vars) -> Result<CacheLocation, ConfigError> {
    let Some(uri) = vars.get("CACHE_URI") else {
        return Ok(default_location(vars));
    };
    if uri.eq_ignore_ascii_case("off") {
        return Ok(CacheLocation::Off);
    }
    if let Some(rest) = uri.strip_prefix("s3://") {
        let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(ConfigError::Invalid {
                variable: "CACHE_URI",
                value: uri.clone(),
                problem: "names no bucket; use s3://bucket/key, a path, or off",
            });
        }
        let key = if key.is_empty() || key.ends_with('/') {
            format!("{key}{FILE_NAME}")
        } else {
            key.to_string()
        };
        return Ok(CacheLocation::S3 {
            bucket: bucket.to_string(),
            key,
        });
    }
    let path = PathBuf::from(&uri);
    Ok(CacheLocation::File(
        if uri.ends_with('/') || path.is_dir() {
            path.join(FILE_NAME)
        } else {
            path
        },
    ))
}

fn default_location(vars: &Vars) -> CacheLocation {
    if vars.get("AWS_LAMBDA_RUNTIME_API").is_some() {
        return CacheLocation::Off;
    }
    let base = match (vars.get("XDG_CACHE_HOME"), vars.get("HOME")) {
        (Some(xdg), _) => PathBuf::from(xdg),
        (None, Some(home)) => PathBuf::from(home).join(".cache"),
        (None, None) => return CacheLocation::Off,
    };
    CacheLocation::File(base.join("ecr-warden").join(FILE_NAME))
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn location(pairs: &[(&str, &str)]) -> Result<CacheLocation, ConfigError> {
        let map: HashMap<String, String> = (pairs.iter())
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        cache_location(&Vars(&map))
    }

    fn s3(bucket: &str, key: &str) -> CacheLocation {
        CacheLocation::S3 {
            bucket: bucket.into(),
            key: key.into(),
        }
    }

    #[test]
    fn cache_uri_names_a_file_an_object_or_nothing() {
        assert_eq!(location(&[("CACHE_URI", "off")]), Ok(CacheLocation::Off));
        assert_eq!(
            location(&[("CACHE_URI", "s3://b/k.json")]),
            Ok(s3("b", "k.json"))
        );
        assert_eq!(
            location(&[("CACHE_URI", "s3://b/x/")]),
            Ok(s3("b", "x/cache.json"))
        );
        assert_eq!(
            location(&[("CACHE_URI", "s3://b")]),
            Ok(s3("b", "cache.json"))
        );
        assert_eq!(
            location(&[("CACHE_URI", "/var/tmp/w/")]),
            Ok(CacheLocation::File("/var/tmp/w/cache.json".into()))
        );
        let err = location(&[("CACHE_URI", "s3:///key")]).unwrap_err();
        assert!(err.to_string().starts_with("CACHE_URI"), "{err}");
    }

    #[test]
    fn unset_the_command_line_uses_the_user_cache_and_lambda_none() {
        assert_eq!(
            location(&[("HOME", "/home/op")]),
            Ok(CacheLocation::File(
                "/home/op/.cache/ecr-warden/cache.json".into()
            ))
        );
        assert_eq!(
            location(&[("HOME", "/home/op"), ("XDG_CACHE_HOME", "/c")]),
            Ok(CacheLocation::File("/c/ecr-warden/cache.json".into()))
        );
        assert_eq!(location(&[]), Ok(CacheLocation::Off));
        let lambda = [("HOME", "/"), ("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9001")];
        assert_eq!(location(&lambda), Ok(CacheLocation::Off));
    }
}

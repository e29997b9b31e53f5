//! Timestamps: whole seconds since the Unix epoch. The core never reads the clock; `now` is passed in.

use std::fmt;

use aws_smithy_types::date_time::{DateTime, Format};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A point in time, in whole seconds since 1970-01-01T00:00:00Z.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Default)]
pub struct Timestamp(pub i64);

/// Seconds in a day.
pub const DAY: i64 = 86_400;

impl Timestamp {
    /// The current time from the system clock (for the imperative shell only).
    pub fn now() -> Self {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        Timestamp(secs)
    }

    /// Parses ISO-8601 (`2026-11-22T03:00:00Z`) or RFC 1123 (`Wed, 16 Aug 2023 23:18:51 GMT`).
    pub fn parse(text: &str) -> Option<Self> {
        DateTime::from_str(text, Format::DateTime)
            .or_else(|_| DateTime::from_str(text, Format::HttpDate))
            .ok()
            .map(|d| Timestamp(d.secs()))
    }

    /// Whole days from `self` to `later` (negative if `later` is earlier).
    pub fn days_until(self, later: Timestamp) -> i64 {
        (later.0 - self.0).div_euclid(DAY)
    }
}

impl From<DateTime> for Timestamp {
    fn from(d: DateTime) -> Self {
        Timestamp(d.secs())
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match DateTime::from_secs(self.0).fmt(Format::DateTime) {
            Ok(s) => f.write_str(&s),
            Err(_) => write!(f, "@{}", self.0),
        }
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Secs(i64),
            Text(String),
        }
        match Raw::deserialize(d)? {
            Raw::Secs(s) => Ok(Timestamp(s)),
            Raw::Text(t) => Timestamp::parse(&t)
                .ok_or_else(|| serde::de::Error::custom(format!("not a timestamp: {t:?}"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_both_formats_aws_uses() {
        let iso = Timestamp::parse("2023-08-16T23:18:51Z").unwrap();
        let rfc = Timestamp::parse("Wed, 16 Aug 2023 23:18:51 GMT").unwrap();
        assert_eq!(iso, rfc);
        assert_eq!(iso.to_string(), "2023-08-16T23:18:51Z");
        assert_eq!(Timestamp::parse("yesterday"), None);
    }

    #[test]
    fn counts_whole_days() {
        let t = Timestamp(0);
        assert_eq!(t.days_until(Timestamp(DAY * 3 - 1)), 2);
        assert_eq!(t.days_until(Timestamp(DAY * 3)), 3);
    }
}

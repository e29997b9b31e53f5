//! Timestamps: whole seconds since the Unix epoch. The core never reads the clock: `now` is always
//! an argument, passed in by the shell.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::OffsetDateTime;
use time::format_description::well_known::{Rfc2822, Rfc3339};

/// A point in time, in whole seconds since 1970-01-01T00:00:00Z.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Default)]
pub struct Timestamp(pub i64);

/// Seconds in a day.
pub const DAY: i64 = 86_400;

impl Timestamp {
    /// Parses ISO-8601 / RFC 3339 (`2026-11-22T03:00:00Z`) or RFC 1123 (`Wed, 16 Aug 2023 23:18:51
    /// GMT`), the two forms AWS events use.
    pub fn parse(text: &str) -> Option<Self> {
        OffsetDateTime::parse(text, &Rfc3339)
            .or_else(|_| OffsetDateTime::parse(text, &Rfc2822))
            .ok()
            .map(|d| Timestamp(d.unix_timestamp()))
    }

    /// `days` whole days before this time.
    pub fn days_before(self, days: u32) -> Timestamp {
        Timestamp(self.0 - i64::from(days) * DAY)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match OffsetDateTime::from_unix_timestamp(self.0).map(|d| d.format(&Rfc3339)) {
            Ok(Ok(s)) => f.write_str(&s),
            _ => write!(f, "@{}", self.0),
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
        assert_eq!(Timestamp::parse("2023-08-16T23:18:51.250Z"), Some(iso));
        assert_eq!(Timestamp::parse("yesterday"), None);
    }

    #[test]
    fn counts_back_whole_days() {
        assert_eq!(Timestamp(DAY * 3).days_before(2), Timestamp(DAY));
    }
}

//! Answers that never change, kept between runs, so a nightly run pays for what changed rather
//! than for the size of the fleet:
//!
//! - a task-definition revision's containers (`DescribeTaskDefinition`): revisions are immutable
//!   and their numbers are never reused, so the key is account, region, family and revision;
//! - a published Lambda version's image (`GetFunction`): immutable too, but a function deleted and
//!   created again restarts its version numbers, so the key also holds the version's code hash
//!   and modification time from the version listing;
//! - an image index's children (`BatchGetImage`): a manifest's digest is its content.
//!
//! The cache is one JSON document (a file, or an S3 object for the Lambda function). It is read
//! once at the start and written once the scan is in, holding only the entries this run used: a
//! deregistered revision simply stops being asked for and drops out. A cache that is missing,
//! unreadable, corrupt or of another version is ignored with a warning and rebuilt; it never fails
//! a run, and since an entry is exactly what AWS answered, it never protects less.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde::{Deserialize, Serialize};

use ecr_warden_core::digest::Digest;
use ecr_warden_core::usage::ContainerImage;

use crate::aws::lambda::FunctionImage;
use crate::aws::s3::S3Api;

/// The format this build reads and writes; any other is ignored and rebuilt.
const FORMAT: &str = "ecr-warden-cache";
const VERSION: u32 = 1;

/// Where the cache lives (`CACHE_URI`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CacheLocation {
    Off,
    File(PathBuf),
    S3 { bucket: String, key: String },
}

impl std::fmt::Display for CacheLocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CacheLocation::Off => f.write_str("off"),
            CacheLocation::File(path) => write!(f, "{}", path.display()),
            CacheLocation::S3 { bucket, key } => write!(f, "s3://{bucket}/{key}"),
        }
    }
}

#[derive(Debug, Default, Clone, Serialize, Deserialize)]
struct Entries {
    #[serde(default)]
    task_definitions: HashMap<String, Vec<ContainerImage>>,
    #[serde(default)]
    lambda_images: HashMap<String, FunctionImage>,
    #[serde(default)]
    index_children: HashMap<String, Vec<Digest>>,
}

#[derive(Serialize, Deserialize)]
struct Document {
    format: String,
    version: u32,
    #[serde(flatten)]
    entries: Entries,
}

/// How the cache served this run.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CacheStats {
    pub hits: usize,
    pub misses: usize,
}

/// The entries read at the start, and those this run used or learnt (what is written back).
#[derive(Default)]
pub struct Cache {
    location: Option<CacheLocation>,
    loaded: Entries,
    used: Mutex<Entries>,
    hits: AtomicUsize,
    misses: AtomicUsize,
}

macro_rules! table {
    ($get:ident, $put:ident, $field:ident, $value:ty) => {
        /// The cached answer for `key`, if any (counted as a hit or a miss).
        pub fn $get(&self, key: &str) -> Option<$value> {
            let found = self.loaded.$field.get(key).cloned();
            self.count(found.is_some());
            if let Some(value) = &found {
                let mut used = self.used.lock().expect("not poisoned");
                used.$field.insert(key.to_string(), value.clone());
            }
            found
        }

        /// Keeps an answer AWS gave, to be written back.
        pub fn $put(&self, key: String, value: $value) {
            if self.location.is_some() {
                let mut used = self.used.lock().expect("not poisoned");
                used.$field.insert(key, value);
            }
        }
    };
}

impl Cache {
    /// A cache that keeps nothing (`CACHE_URI=off`, and tests).
    pub fn off() -> Cache {
        Cache::default()
    }

    /// Reads the cache; what cannot be read is a warning, and the run starts with an empty cache.
    pub async fn load<S: S3Api>(location: &CacheLocation, s3: &S) -> (Cache, Option<String>) {
        if *location == CacheLocation::Off {
            return (Cache::off(), None);
        }
        let text = match location {
            CacheLocation::Off => unreachable!(),
            CacheLocation::File(path) => match tokio::fs::read_to_string(path).await {
                Ok(text) => Ok(Some(text)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(e.to_string()),
            },
            CacheLocation::S3 { bucket, key } => match s3.get_text(bucket, key).await {
                Ok(object) => Ok(Some(object.text)),
                Err(e) if e.code.as_deref() == Some("NoSuchKey") => Ok(None),
                Err(e) => Err(e.to_string()),
            },
        };
        let (loaded, warning) = match text.map(|t| t.map(|t| parse(&t))) {
            Ok(None) => (Entries::default(), None),
            Ok(Some(Ok(entries))) => (entries, None),
            Ok(Some(Err(why))) | Err(why) => (
                Entries::default(),
                Some(format!(
                    "the cache at {location} was ignored and will be rebuilt ({why}); this run describes everything afresh"
                )),
            ),
        };
        let cache = Cache {
            location: Some(location.clone()),
            loaded,
            ..Cache::default()
        };
        (cache, warning)
    }

    table!(
        task_definition,
        keep_task_definition,
        task_definitions,
        Vec<ContainerImage>
    );
    table!(
        lambda_image,
        keep_lambda_image,
        lambda_images,
        FunctionImage
    );
    table!(
        index_children,
        keep_index_children,
        index_children,
        Vec<Digest>
    );

    fn count(&self, hit: bool) {
        let counter = if hit { &self.hits } else { &self.misses };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub fn stats(&self) -> CacheStats {
        CacheStats {
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
        }
    }

    /// Writes back the entries this run used or learnt; a failure is a warning, never an error.
    pub async fn save<S: S3Api>(&self, s3: &S) -> Option<String> {
        let location = self.location.as_ref()?;
        let document = Document {
            format: FORMAT.into(),
            version: VERSION,
            entries: self.used.lock().expect("not poisoned").clone(),
        };
        let text = serde_json::to_string(&document).expect("the cache serializes");
        let written = match location {
            CacheLocation::Off => Ok(()),
            CacheLocation::File(path) => write_file(path, &text).await,
            CacheLocation::S3 { bucket, key } => {
                (s3.put_text(bucket, key, text).await).map_err(|e| e.to_string())
            }
        };
        written.err().map(|why| {
            format!("the cache could not be written to {location} ({why}); the next run describes everything afresh")
        })
    }
}

fn parse(text: &str) -> Result<Entries, String> {
    let document: Document =
        serde_json::from_str(text).map_err(|e| format!("not a cache document: {e}"))?;
    if document.format != FORMAT || document.version != VERSION {
        return Err(format!(
            "{} version {}, this build reads {FORMAT} version {VERSION}",
            document.format, document.version
        ));
    }
    Ok(document.entries)
}

/// Writes through a temporary file, so a run stopped halfway never leaves half a cache.
async fn write_file(path: &PathBuf, text: &str) -> Result<(), String> {
    if let Some(dir) = path.parent() {
        tokio::fs::create_dir_all(dir)
            .await
            .map_err(|e| e.to_string())?;
    }
    let partial = path.with_extension("partial");
    tokio::fs::write(&partial, text)
        .await
        .map_err(|e| e.to_string())?;
    tokio::fs::rename(&partial, path)
        .await
        .map_err(|e| e.to_string())
}

//! How much memory a run needs for the images it holds, from the measured table in the README
//! (`make bench-core` at several sizes): a warning when the inventory approaches the Lambda
//! function's memory, before a larger registry makes it run out.

/// The run's own memory besides the images (runtime, clients, usage), in MiB: the standard
/// benchmark fleet (50,000 images) peaks at 67 MiB.
const BASE_MIB: f64 = 45.0;
/// Memory per image held (inventory, plan and report), in KiB: planning 100,000 to 1,000,000
/// images peaks at 50 to 462 MiB.
const PER_IMAGE_KIB: f64 = 0.47;
/// Warn when the estimate passes this share of the function's memory.
const WARN_AT: f64 = 0.8;

/// The estimated peak memory of a run holding `images` images, in MiB.
pub fn estimated_peak_mib(images: usize) -> f64 {
    BASE_MIB + images as f64 * PER_IMAGE_KIB / 1024.0
}

/// A warning when a run holding `images` images comes near `limit_mb` (the function's
/// `MemorySize`, from `AWS_LAMBDA_FUNCTION_MEMORY_SIZE`), naming a size that fits.
pub fn memory_warning(images: usize, limit_mb: Option<u64>) -> Option<String> {
    let limit = limit_mb? as f64;
    let needed = estimated_peak_mib(images);
    if needed < limit * WARN_AT {
        return None;
    }
    let fits = ((needed / WARN_AT / 128.0).ceil() * 128.0) as u64;
    Some(format!(
        "{images} images need about {needed:.0} MiB, near the function's {limit:.0} MB: raise MemorySize to {fits} MB or more before the registry grows further"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warns_only_near_the_limit_and_names_a_size_that_fits() {
        assert_eq!(memory_warning(1_000_000, None), None);
        assert_eq!(memory_warning(10_000, Some(512)), None);
        let warning = memory_warning(1_000_000, Some(512)).unwrap();
        assert!(warning.contains("raise MemorySize to"), "{warning}");
        let fits: u64 = warning
            .split("raise MemorySize to ")
            .nth(1)
            .and_then(|w| w.split(' ').next())
            .and_then(|n| n.parse().ok())
            .unwrap();
        assert_eq!(memory_warning(1_000_000, Some(fits)), None);
    }
}

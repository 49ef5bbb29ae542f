//! The spec's version rules: same major version, then the consumer's
//! required version no newer than the provider's. The structural check
//! that follows lives in [`super::compat`].
//!
//! A compiled component records the version of each package it was
//! compiled against; that version is its "required" version (components
//! carry no separate minimum). Majors are compared literally, as the spec
//! says: `0.1.0` and `0.2.0` share major `0`, so a consumer at `0.2.0` and
//! a provider at `0.1.0` fail as "provider too old", not as a major
//! mismatch.

use semver::Version;

/// The contract version this runtime implements.
pub const CURRENT_CONTRACT: &str = "0.1.0";

/// Contract versions older than this are deprecated (E0110).
pub const OLDEST_SUPPORTED: Version = Version::new(0, 1, 0);

/// The outcome of comparing a consumer's required version with a provider's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Same major, required ≤ provided.
    Compatible,
    /// Different majors (E0201).
    MajorMismatch,
    /// Same major, but the provider is older than the consumer needs.
    ProviderTooOld,
}

/// Applies the rules to `required` (consumer) and `provided` (provider).
/// Pre-release and build metadata take part in ordering as semver says.
pub fn compare(required: &Version, provided: &Version) -> Verdict {
    if required.major != provided.major {
        Verdict::MajorMismatch
    } else if required > provided {
        Verdict::ProviderTooOld
    } else {
        Verdict::Compatible
    }
}

/// Whether `version` is deprecated.
pub fn is_deprecated(version: &Version) -> bool {
    version < &OLDEST_SUPPORTED
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Version {
        Version::parse(s).unwrap()
    }

    #[test]
    fn same_major_and_older_or_equal_requirement_is_compatible() {
        assert_eq!(compare(&v("0.1.0"), &v("0.1.0")), Verdict::Compatible);
        assert_eq!(compare(&v("0.1.0"), &v("0.2.0")), Verdict::Compatible);
        assert_eq!(compare(&v("1.2.0"), &v("1.4.1")), Verdict::Compatible);
    }

    #[test]
    fn a_newer_requirement_needs_a_newer_provider() {
        assert_eq!(compare(&v("0.2.0"), &v("0.1.0")), Verdict::ProviderTooOld);
        assert_eq!(compare(&v("1.0.1"), &v("1.0.0")), Verdict::ProviderTooOld);
    }

    #[test]
    fn different_majors_never_link() {
        assert_eq!(compare(&v("1.0.0"), &v("2.0.0")), Verdict::MajorMismatch);
        assert_eq!(compare(&v("2.0.0"), &v("1.9.0")), Verdict::MajorMismatch);
        assert_eq!(compare(&v("0.9.0"), &v("1.0.0")), Verdict::MajorMismatch);
    }

    #[test]
    fn pre_releases_order_before_their_release() {
        assert_eq!(
            compare(&v("0.1.0"), &v("0.1.0-rc.1")),
            Verdict::ProviderTooOld
        );
        assert_eq!(compare(&v("0.1.0-rc.1"), &v("0.1.0")), Verdict::Compatible);
    }

    #[test]
    fn only_pre_0_1_versions_are_deprecated() {
        assert!(is_deprecated(&v("0.0.9")));
        assert!(!is_deprecated(&v("0.1.0")));
        assert!(!is_deprecated(&v("0.2.0")));
    }
}

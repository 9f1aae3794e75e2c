//! The appliance version and which parts of the API it has.

/// A dotted appliance version such as `8.0.3.00400`: major, minor, update and patch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct ApplianceVersion {
    pub major: u32,
    pub minor: u32,
    pub update: u32,
    pub patch: u32,
}

impl ApplianceVersion {
    /// Reads `8.0.3.00400`; the patch part may be missing.
    pub fn parse(text: &str) -> Option<ApplianceVersion> {
        let mut parts = text.split('.').map(|p| p.parse::<u32>().ok());
        let major = parts.next()??;
        let minor = parts.next()??;
        let update = parts.next()??;
        let patch = parts.next().unwrap_or(Some(0))?;
        // 6.7 updates kept 6.7.0 and moved the fourth number instead: U1 is 6.7.0.2xxxx,
        // U2 6.7.0.3xxxx, U3 6.7.0.4xxxx and later.
        let update = match (major, minor, update, patch) {
            (6, 7, 0, 40_000..) => 3,
            (6, 7, 0, 30_000..) => 2,
            (6, 7, 0, 20_000..) => 1,
            _ => update,
        };
        parts.next().is_none().then_some(ApplianceVersion {
            major,
            minor,
            update,
            patch,
        })
    }

    fn at_least(&self, major: u32, minor: u32, update: u32) -> bool {
        (self.major, self.minor, self.update) >= (major, minor, update)
    }

    /// The `/api` generation arrived in 7.0 U2.
    pub fn has_api(&self) -> bool {
        self.at_least(7, 0, 2)
    }

    /// Recovery info, schedules and job details arrived in 6.7.
    pub fn has_schedules_and_details(&self) -> bool {
        self.at_least(6, 7, 0)
    }

    /// `build` in job details and the NFS and SMB location types arrived in 6.7 U2.
    pub fn has_build_info(&self) -> bool {
        self.at_least(6, 7, 2)
    }

    /// `fast_backup` in schedules and job details arrived in 8.0 U1.
    pub fn has_fast_backup_info(&self) -> bool {
        self.at_least(8, 0, 1)
    }

    /// The Supervisor control plane part is seen on 8.x.
    pub fn has_supervisors_part(&self) -> bool {
        self.major >= 8
    }

    /// The `version_name` of a job's build info, such as `8.0.3 GA`.
    pub fn version_name(&self) -> String {
        format!("{}.{}.{} GA", self.major, self.minor, self.update)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn features_follow_the_version() {
        let v67 = ApplianceVersion::parse("6.7.0.20000").unwrap();
        let v67u3 = ApplianceVersion::parse("6.7.0.44000").unwrap();
        let v703 = ApplianceVersion::parse("7.0.3.01700").unwrap();
        let v803 = ApplianceVersion::parse("8.0.3.00400").unwrap();
        assert!(!v67.has_api() && v703.has_api() && v803.has_api());
        assert!(!v67.has_build_info() && v67u3.has_build_info() && v703.has_build_info());
        assert!(!v67u3.has_api());
        assert!(!v703.has_fast_backup_info() && v803.has_fast_backup_info());
        assert!(ApplianceVersion::parse("8.0").is_none());
        assert!(ApplianceVersion::parse("8.0.x.1").is_none());
    }
}

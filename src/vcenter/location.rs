//! Backup location types (`LocationType`) and which appliance versions accept them.

use std::fmt;

/// The protocol of a backup location, as the appliance names it on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LocationType {
    /// `ftp://`
    Ftp,
    /// `ftps://`
    Ftps,
    /// `http://`
    Http,
    /// `https://`
    Https,
    /// `scp://`
    Scp,
    /// `sftp://`, from 7.0.
    Sftp,
    /// `nfs://`, from 6.7 U2.
    Nfs,
    /// `smb://`, from 6.7 U2.
    Smb,
}

/// A dotted appliance version reduced to the three numbers that decide features.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct VersionLevel(pub u32, pub u32, pub u32);

impl VersionLevel {
    /// Reads `8.0.3.00400` as 8.0.3; `None` when the text does not start with a number.
    ///
    /// 6.7 appliances report their update in the fourth number instead: 6.7 U1 is
    /// `6.7.0.2xxxx`, U2 `6.7.0.3xxxx`, U3 `6.7.0.4xxxx` and later. Those read as 6.7.1,
    /// 6.7.2 and 6.7.3, the API levels the reference dates features by.
    pub fn parse(version: &str) -> Option<VersionLevel> {
        let mut numbers = version.trim().split('.').map(|n| n.parse::<u32>().ok());
        let major = numbers.next().flatten()?;
        let minor = numbers.next().flatten().unwrap_or(0);
        let patch = numbers.next().flatten().unwrap_or(0);
        let build = numbers.next().flatten().unwrap_or(0);

        let patch = if (major, minor, patch) == (6, 7, 0) {
            match build {
                40_000.. => 3,
                30_000.. => 2,
                20_000.. => 1,
                _ => 0,
            }
        } else {
            patch
        };
        Some(VersionLevel(major, minor, patch))
    }
}

impl fmt::Display for VersionLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.0, self.1, self.2)
    }
}

impl LocationType {
    /// Every type, in the order forms list them.
    pub const ALL: [LocationType; 8] = [
        LocationType::Nfs,
        LocationType::Smb,
        LocationType::Sftp,
        LocationType::Ftps,
        LocationType::Ftp,
        LocationType::Https,
        LocationType::Http,
        LocationType::Scp,
    ];

    /// The type a URL scheme stands for; `None` for a scheme no appliance accepts.
    pub fn from_scheme(scheme: &str) -> Option<LocationType> {
        let found = match scheme.to_ascii_lowercase().as_str() {
            "ftp" => LocationType::Ftp,
            "ftps" => LocationType::Ftps,
            "http" => LocationType::Http,
            "https" => LocationType::Https,
            "scp" => LocationType::Scp,
            "sftp" => LocationType::Sftp,
            "nfs" => LocationType::Nfs,
            "smb" => LocationType::Smb,
            _ => return None,
        };
        Some(found)
    }

    /// The wire value of `location_type`.
    pub fn as_wire(self) -> &'static str {
        match self {
            LocationType::Ftp => "FTP",
            LocationType::Ftps => "FTPS",
            LocationType::Http => "HTTP",
            LocationType::Https => "HTTPS",
            LocationType::Scp => "SCP",
            LocationType::Sftp => "SFTP",
            LocationType::Nfs => "NFS",
            LocationType::Smb => "SMB",
        }
    }

    /// The first version that accepts the type; `None` when every version does.
    pub fn since(self) -> Option<VersionLevel> {
        match self {
            LocationType::Nfs | LocationType::Smb => Some(VersionLevel(6, 7, 2)),
            LocationType::Sftp => Some(VersionLevel(7, 0, 0)),
            _ => None,
        }
    }

    /// `Ok` when an appliance of `version` accepts the type, else why not in words. An
    /// unknown version is only trusted with the types every version accepts.
    pub fn supported_by(self, version: Option<&str>) -> Result<(), String> {
        let Some(since) = self.since() else {
            return Ok(());
        };
        match version.and_then(VersionLevel::parse) {
            Some(level) if level >= since => Ok(()),
            Some(level) => Err(format!(
                "{} needs version {since} or later; this appliance runs {level}",
                self.as_wire()
            )),
            None => Err(format!(
                "{} needs version {since} or later, and this appliance's version is not \
                 known yet",
                self.as_wire()
            )),
        }
    }
}

impl fmt::Display for LocationType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_wire())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_decide_the_newer_types() {
        assert!(LocationType::Nfs.supported_by(Some("6.7.0.20000")).is_err());
        assert!(LocationType::Nfs.supported_by(Some("6.7.2.10000")).is_ok());
        assert!(
            LocationType::Sftp
                .supported_by(Some("6.7.3.10000"))
                .is_err()
        );
        assert!(LocationType::Sftp.supported_by(Some("7.0.3.01000")).is_ok());
        assert!(LocationType::Ftp.supported_by(None).is_ok());
        let why = LocationType::Smb.supported_by(None).unwrap_err();
        assert!(why.contains("not known"), "{why}");
    }

    #[test]
    fn schemes_map_to_types() {
        assert_eq!(LocationType::from_scheme("SFTP"), Some(LocationType::Sftp));
        assert_eq!(LocationType::from_scheme("file"), None);
        assert_eq!(VersionLevel::parse("8"), Some(VersionLevel(8, 0, 0)));
        assert_eq!(VersionLevel::parse("x.1"), None);
    }
}

#[cfg(test)]
mod update_tests {
    use super::*;

    #[test]
    fn six_seven_updates_come_from_the_fourth_number() {
        let nfs_ok = |v: &str| LocationType::Nfs.supported_by(Some(v)).is_ok();
        assert!(nfs_ok("6.7.0.44000"), "6.7 U3 takes NFS");
        assert!(nfs_ok("6.7.0.30000"), "6.7 U2 takes NFS");
        assert!(!nfs_ok("6.7.0.20000"), "6.7 U1 does not");
        assert!(
            LocationType::Sftp
                .supported_by(Some("6.7.0.44000"))
                .is_err()
        );
        assert!(LocationType::Sftp.supported_by(Some("7.0.3.01700")).is_ok());
    }
}

//! Sessions of one appliance: tokens, idle expiry and the per-user cap.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};

/// One logged-in session.
#[derive(Debug, Clone)]
pub(crate) struct Session {
    /// The user as the appliance names it, such as `VSPHERE.LOCAL\svc-backup`.
    pub user: String,
    /// The login name, for role checks.
    pub login: String,
    pub created: DateTime<Utc>,
    pub last_accessed: DateTime<Utc>,
}

/// The open sessions of an appliance, keyed by token.
#[derive(Debug, Default)]
pub(crate) struct SessionTable {
    sessions: HashMap<String, Session>,
}

impl SessionTable {
    /// Opens a session, or `None` when `login` already holds `cap` live sessions.
    pub fn open(
        &mut self,
        login: &str,
        now: DateTime<Utc>,
        idle: Duration,
        cap: usize,
    ) -> Option<String> {
        self.drop_idle(now, idle);
        let held = self.sessions.values().filter(|s| s.login == login).count();
        if held >= cap {
            return None;
        }

        let token = format!("{:032x}", rand::random::<u128>());
        let session = Session {
            user: super::appliance::display_login(login),
            login: login.to_owned(),
            created: now,
            last_accessed: now,
        };
        self.sessions.insert(token.clone(), session);
        Some(token)
    }

    /// The live session of `token`, marked as used now; an idle one is dropped.
    pub fn touch(&mut self, token: &str, now: DateTime<Utc>, idle: Duration) -> Option<Session> {
        let session = self.sessions.get_mut(token)?;
        if now - session.last_accessed > idle {
            self.sessions.remove(token);
            return None;
        }
        session.last_accessed = now;
        Some(session.clone())
    }

    pub fn close(&mut self, token: &str) -> bool {
        self.sessions.remove(token).is_some()
    }

    /// Opens sessions for `login` until it holds `cap`, as other clients sharing the
    /// account would; returns how many were opened.
    pub fn fill(&mut self, login: &str, now: DateTime<Utc>, idle: Duration, cap: usize) -> usize {
        let mut opened = 0;
        while self.open(login, now, idle, cap).is_some() {
            opened += 1;
        }
        opened
    }

    /// Forgets every session, as after an appliance restart.
    pub fn clear(&mut self) {
        self.sessions.clear();
    }

    /// Live sessions at `now`.
    pub fn open_count(&mut self, now: DateTime<Utc>, idle: Duration) -> usize {
        self.drop_idle(now, idle);
        self.sessions.len()
    }

    fn drop_idle(&mut self, now: DateTime<Utc>, idle: Duration) {
        self.sessions.retain(|_, s| now - s.last_accessed <= idle);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_32_hex_and_the_cap_holds() {
        let mut table = SessionTable::default();
        let now = Utc::now();
        let idle = Duration::minutes(30);
        let token = table.open("a@vsphere.local", now, idle, 2).unwrap();
        assert_eq!(token.len(), 32);
        assert!(
            token
                .chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        );
        assert!(table.open("a@vsphere.local", now, idle, 2).is_some());
        assert!(table.open("a@vsphere.local", now, idle, 2).is_none());
        assert!(table.open("b", now, idle, 2).is_some());
        assert_eq!(
            table.touch(&token, now, idle).unwrap().user,
            "VSPHERE.LOCAL\\a"
        );
    }

    #[test]
    fn filling_reaches_the_cap_and_no_further() {
        let mut table = SessionTable::default();
        let now = Utc::now();
        let idle = Duration::minutes(30);
        table.open("a", now, idle, 3).unwrap();
        assert_eq!(table.fill("a", now, idle, 3), 2);
        assert!(table.open("a", now, idle, 3).is_none());
        assert_eq!(table.open_count(now, idle), 3);
    }

    #[test]
    fn idle_sessions_expire() {
        let mut table = SessionTable::default();
        let now = Utc::now();
        let idle = Duration::minutes(30);
        let token = table.open("a", now, idle, 5).unwrap();
        assert!(
            table
                .touch(&token, now + Duration::minutes(29), idle)
                .is_some()
        );
        assert!(
            table
                .touch(&token, now + Duration::minutes(60), idle)
                .is_none()
        );
        assert_eq!(table.open_count(now, idle), 0);
    }
}

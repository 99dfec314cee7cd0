//! /etc/passwd (passwd(5)): the login name of a user id, read from the file
//! itself rather than through NSS, which a statically linked glibc cannot
//! load safely.
#![forbid(unsafe_code)]

use std::collections::HashMap;
use std::sync::OnceLock;

/// Where the system keeps its users.
pub const PATH: &str = "/etc/passwd";

/// Login names by user id.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Passwd {
    names: HashMap<u32, String>,
}

impl Passwd {
    /// Reads [`PATH`]; a missing file is an empty table.
    pub fn load() -> Passwd {
        std::fs::read_to_string(PATH)
            .map(|text| Passwd::parse(&text))
            .unwrap_or_default()
    }

    /// Parses `name:password:uid:gid:gecos:home:shell` lines; the first line
    /// of a uid wins, NIS compat lines (`+`, `-`) and malformed lines are skipped.
    pub fn parse(text: &str) -> Passwd {
        let mut names = HashMap::new();
        for line in text.lines() {
            let mut fields = line.split(':');
            let (Some(name), Some(_), Some(uid)) = (fields.next(), fields.next(), fields.next())
            else {
                continue;
            };
            if name.is_empty() || name.starts_with(['+', '-', '#']) {
                continue;
            }
            if let Ok(uid) = uid.parse::<u32>() {
                names.entry(uid).or_insert_with(|| name.to_string());
            }
        }
        Passwd { names }
    }

    /// The login name of `uid`.
    pub fn name(&self, uid: u32) -> Option<&str> {
        self.names.get(&uid).map(String::as_str)
    }
}

/// The login name of `uid` from the system's file, read once per process.
pub fn name_of(uid: u32) -> Option<String> {
    static SYSTEM: OnceLock<Passwd> = OnceLock::new();
    SYSTEM
        .get_or_init(Passwd::load)
        .name(uid)
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_line_of_a_uid_names_it() {
        let passwd = Passwd::parse(
            "root:x:0:0:root:/root:/bin/bash\n\
             toor:x:0:0::/root:/bin/sh\n\
             daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n",
        );
        assert_eq!(passwd.name(0), Some("root"));
        assert_eq!(passwd.name(1), Some("daemon"));
        assert_eq!(passwd.name(2), None);
    }

    #[test]
    fn compat_comment_and_malformed_lines_are_skipped() {
        let passwd = Passwd::parse(
            "+nisuser:x:500:500::/:/bin/sh\n#c:x:501:1::/:/bin/sh\n\
             short:x\nbad:x:notanumber:1::/:/bin/sh\n:x:502:1::/:/bin/sh\n\
             ok:x:503:1::/:/bin/sh\n",
        );
        assert_eq!(passwd.name(500), None);
        assert_eq!(passwd.name(501), None);
        assert_eq!(passwd.name(502), None);
        assert_eq!(passwd.name(503), Some("ok"));
    }
}

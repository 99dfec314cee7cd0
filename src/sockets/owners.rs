//! Which processes hold which sockets: the kernel's task_file BPF
//! iterator where it may run (see `bpf_iter`), else one pass over
//! `/proc/*/fd`.
//!
//! Every descriptor link is read with `readlinkat()` relative to its
//! process's open fd directory (no path walk per descriptor), processes are
//! spread across threads, and only the inodes asked about are kept.
//! Processes that exit mid-scan are skipped; processes the user may not
//! inspect are counted, so the caller can say why some sockets show no owner.
#![deny(unsafe_code)]

use std::collections::{HashMap, HashSet};
use std::ffi::CStr;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;

use nix::dir::Dir;
use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::sys::stat::Mode;
use schemars::JsonSchema;
use serde::Serialize;

use super::bpf_iter::SocketFile;
use crate::process::PidMap;

/// A process holding a socket through one of its descriptors.
// The texts are shared: a process holding 12,000 sockets has its name,
// user and command line once, not once per socket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Holder {
    /// Process id.
    pub pid: u32,
    /// Command name (`/proc/PID/comm`).
    pub name: Arc<str>,
    /// The descriptor number.
    pub fd: u32,
    /// The process's user (filled in by `netdx port`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String")]
    pub user: Option<Arc<str>>,
    /// The process's full command line (filled in by `netdx port`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String")]
    pub cmdline: Option<Arc<str>>,
}

/// Holders by socket inode, for a given set of inodes.
#[derive(Debug, Default)]
pub struct OwnerMap {
    /// Every holder of every wanted inode, by pid then fd.
    pub holders: HashMap<u32, Vec<Holder>>,
    /// Processes whose descriptors could not be read (EACCES).
    pub hidden: usize,
}

/// Holders of every socket on the host, compactly: (inode, pid, fd)
/// triples sorted by inode, and one name per process.
#[derive(Debug, Default)]
pub struct OwnerIndex {
    entries: Vec<(u32, u32, u32)>,
    names: PidMap<Arc<str>>,
    /// Processes whose descriptors could not be read (EACCES).
    pub hidden: usize,
}

impl OwnerIndex {
    /// The holders of each of `inodes` (in any order), as [`OwnerIndex::holders`]
    /// gives them: the inodes are sorted and the index is read once, front
    /// to back, instead of searched once per inode (12,500 binary searches
    /// of 50,000 entries miss the cache at nearly every step).
    pub fn holders_of_each(&self, inodes: &[u32]) -> Vec<Vec<Holder>> {
        let mut order: Vec<(u32, usize)> = inodes.iter().copied().zip(0..).collect();
        order.sort_unstable();
        let mut all = vec![Vec::new(); inodes.len()];
        let mut at = 0;
        for (inode, position) in order {
            while self.entries.get(at).is_some_and(|e| e.0 < inode) {
                at += 1;
            }
            let end = at
                + self.entries[at..]
                    .iter()
                    .take_while(|e| e.0 == inode)
                    .count();
            all[position] = self.entries[at..end]
                .iter()
                .map(|&(_, pid, fd)| self.holder(pid, fd))
                .collect();
        }
        all
    }

    /// The first holder (lowest pid, then fd) of each of `inodes`, which
    /// must be in ascending order, as pid and command name: one walk of
    /// the index beside the inodes, and nothing allocated per socket
    /// (`netdx top` asks this for every connection at every refresh).
    pub fn first_holders_sorted(&self, inodes: &[u32]) -> Vec<Option<(u32, Arc<str>)>> {
        debug_assert!(inodes.is_sorted());
        let mut at = 0;
        inodes
            .iter()
            .map(|&inode| {
                while self.entries.get(at).is_some_and(|e| e.0 < inode) {
                    at += 1;
                }
                let &(found, pid, _) = self.entries.get(at)?;
                (found == inode).then(|| {
                    let name = self.names.get(&pid).cloned().unwrap_or_else(unknown_name);
                    (pid, name)
                })
            })
            .collect()
    }

    /// An index of `entries` (inode, pid, fd), for tests elsewhere in the crate.
    #[cfg(test)]
    pub(crate) fn from_entries(mut entries: Vec<(u32, u32, u32)>, names: &[(u32, &str)]) -> Self {
        entries.sort_unstable();
        OwnerIndex {
            entries,
            names: names
                .iter()
                .map(|&(pid, name)| (pid, Arc::from(name)))
                .collect(),
            hidden: 0,
        }
    }

    fn holder(&self, pid: u32, fd: u32) -> Holder {
        Holder {
            pid,
            name: self.names.get(&pid).cloned().unwrap_or_else(unknown_name),
            fd,
            user: None,
            cmdline: None,
        }
    }

    /// The holders of `inode`, by pid then fd.
    pub fn holders(&self, inode: u32) -> Vec<Holder> {
        let start = self.entries.partition_point(|e| e.0 < inode);
        let end = start + self.entries[start..].partition_point(|e| e.0 == inode);
        // Sized exactly (a take_while would start at four): most sockets
        // have one holder, and a port bench has 12,500 of them.
        self.entries[start..end]
            .iter()
            .map(|&(_, pid, fd)| self.holder(pid, fd))
            .collect()
    }
}

/// The most threads a scan uses.
const MAX_THREADS: usize = 8;

/// One scan's raw findings.
struct Found {
    entries: Vec<(u32, u32, u32)>,
    names: PidMap<String>,
    hidden: usize,
}

/// `NETDX_OWNERS=bpf|proc` forces one way of finding owners (tests and
/// benchmarks compare them; forced `bpf` finds no owners when the iterator
/// cannot run, so a broken iterator cannot hide behind /proc); unset, netdx
/// picks.
pub const OWNERS_ENV: &str = "NETDX_OWNERS";

/// Open files on the host above which the BPF iterator pays for itself:
/// loading it costs ~9 ms (BTF read, verifier), the /proc scan ~3.5 µs per
/// descriptor spread over the cores.
const BPF_WORTHWHILE: u64 = 5_000;

/// Open files on the host (`/proc/sys/fs/file-nr`, first field).
fn open_files() -> u64 {
    std::fs::read_to_string("/proc/sys/fs/file-nr")
        .ok()
        .and_then(|text| text.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// Inode of the initial pid namespace (PROC_PID_INIT_INO).
const INITIAL_PID_NS: &str = "pid:[4026531836]";

/// The iterator reports a task's pid as the initial namespace numbers it;
/// inside a container those are not the pids /proc shows, so netdx only
/// uses it from the initial pid namespace.
fn in_initial_pid_namespace() -> bool {
    std::fs::read_link("/proc/self/ns/pid").is_ok_and(|link| link.as_os_str() == INITIAL_PID_NS)
}

/// Every process's socket descriptors, keeping the sockets `keep` accepts:
/// from the kernel's task_file BPF iterator where it may run (root) and the
/// host has enough descriptors for it to pay off, else from /proc.
fn scan_with(keep: &(dyn Fn(u32) -> bool + Sync)) -> Found {
    let forced = std::env::var(OWNERS_ENV).ok();
    let use_bpf = match forced.as_deref() {
        Some("proc") => false,
        Some("bpf") => true,
        _ => in_initial_pid_namespace() && open_files() >= BPF_WORTHWHILE,
    };
    if use_bpf {
        let expected = usize::try_from(open_files()).unwrap_or(0);
        let mut walk = IteratorWalk::new(expected, keep);
        match super::bpf_iter::socket_files(&mut |file| walk.add(file)) {
            Ok(()) => return walk.finish(),
            Err(_) if forced.as_deref() == Some("bpf") => {
                return IteratorWalk::new(0, keep).finish();
            }
            // What was read so far is dropped: /proc is scanned whole instead.
            Err(_) => {}
        }
    }
    scan_proc(keep)
}

/// The owners found so far in the BPF iterator's records.
struct IteratorWalk<'k> {
    found: Found,
    keep: &'k (dyn Fn(u32) -> bool + Sync),
    /// The process whose name is known: the iterator reports a process's
    /// descriptors together, so its name is looked up once per run of its
    /// records, and made a string once.
    named: Option<u32>,
    /// Whether the records came by (pid, fd), as the kernel walks them.
    in_order: bool,
    last: (u32, u32),
}

impl<'k> IteratorWalk<'k> {
    fn new(expected: usize, keep: &'k (dyn Fn(u32) -> bool + Sync)) -> Self {
        IteratorWalk {
            found: Found {
                // Reserved, not touched: only what is filled costs memory.
                entries: Vec::with_capacity(expected.min(1 << 22)),
                names: PidMap::default(),
                hidden: 0,
            },
            keep,
            named: None,
            in_order: true,
            last: (0, 0),
        }
    }

    fn add(&mut self, file: SocketFile) {
        let Ok(inode) = u32::try_from(file.inode) else {
            return;
        };
        if !(self.keep)(inode) {
            return;
        }
        self.in_order &= (file.pid, file.fd) >= self.last;
        self.last = (file.pid, file.fd);
        self.found.entries.push((inode, file.pid, file.fd));
        if self.named != Some(file.pid) {
            self.found
                .names
                .entry(file.pid)
                .or_insert_with(|| file.name());
            self.named = Some(file.pid);
        }
    }

    fn finish(mut self) -> Found {
        sort_entries(&mut self.found.entries, self.in_order);
        self.found
    }
}

/// Sorts (inode, pid, fd) entries. Entries already in (pid, fd) order need
/// only a stable sort by inode for the same result, and that sort runs on
/// the runs of rising inodes each process's descriptors form (a process
/// opens its sockets one after another) instead of comparing triples.
fn sort_entries(entries: &mut [(u32, u32, u32)], in_pid_fd_order: bool) {
    if in_pid_fd_order {
        entries.sort_by_key(|&(inode, _, _)| inode);
    } else {
        entries.sort_unstable();
    }
}

/// Reads every process's /proc/PID/fd.
fn scan_proc(keep: &(dyn Fn(u32) -> bool + Sync)) -> Found {
    let pids = list_pids();
    let threads = thread::available_parallelism()
        .map_or(1, usize::from)
        .clamp(1, MAX_THREADS)
        .min(pids.len().max(1));
    // Processes differ wildly in descriptor count: threads take the next
    // process as they finish one, rather than a fixed share.
    let next = AtomicUsize::new(0);
    let parts: Vec<Found> = thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| scope.spawn(|| scan_pids(&pids, &next, keep)))
            .collect();
        workers.into_iter().filter_map(|w| w.join().ok()).collect()
    });
    let mut all = Found {
        entries: Vec::new(),
        names: PidMap::default(),
        hidden: 0,
    };
    for part in parts {
        all.hidden += part.hidden;
        all.entries.extend(part.entries);
        all.names.extend(part.names);
    }
    all.entries.sort_unstable();
    all
}

/// Finds the holders of `inodes`.
pub fn scan(inodes: impl IntoIterator<Item = u32>) -> OwnerMap {
    let wanted: HashSet<u32> = inodes.into_iter().filter(|&i| i != 0).collect();
    if wanted.is_empty() {
        return OwnerMap::default();
    }
    let found = scan_with(&|inode| wanted.contains(&inode));
    let mut map = OwnerMap {
        holders: HashMap::new(),
        hidden: found.hidden,
    };
    let names = shared(found.names);
    for (inode, pid, fd) in found.entries {
        let name = names.get(&pid).cloned().unwrap_or_else(unknown_name);
        map.holders.entry(inode).or_default().push(Holder {
            pid,
            name,
            fd,
            user: None,
            cmdline: None,
        });
    }
    map
}

/// Finds the holders of every socket (for streaming listings, scanned
/// before the socket table is read, as ss does).
pub fn scan_all() -> OwnerIndex {
    let found = scan_with(&|_| true);
    OwnerIndex {
        entries: found.entries,
        names: shared(found.names),
        hidden: found.hidden,
    }
}

/// Each process's name made shareable, once.
fn shared(names: PidMap<String>) -> PidMap<Arc<str>> {
    names
        .into_iter()
        .map(|(pid, name)| (pid, Arc::from(name)))
        .collect()
}

/// The name shown for a process that exited before its name was read.
fn unknown_name() -> Arc<str> {
    Arc::from("?")
}

/// Numeric entries of /proc.
fn list_pids() -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .collect()
}

/// Scans processes of `pids`, taking the next index from `next` each time.
fn scan_pids(pids: &[u32], next: &AtomicUsize, keep: &(dyn Fn(u32) -> bool + Sync)) -> Found {
    let mut found = Found {
        entries: Vec::new(),
        names: PidMap::default(),
        hidden: 0,
    };
    let mut fds: Vec<u32> = Vec::new();
    let mut link = [0u8; LINK_BUFFER];
    let mut digits = [0u8; 11];
    while let Some(&pid) = pids.get(next.fetch_add(1, Ordering::Relaxed)) {
        let path = format!("/proc/{pid}/fd");
        let mut dir = match Dir::open(
            path.as_str(),
            OFlag::O_RDONLY | OFlag::O_DIRECTORY,
            Mode::empty(),
        ) {
            Ok(dir) => dir,
            Err(Errno::EACCES | Errno::EPERM) => {
                found.hidden += 1;
                continue;
            }
            // Gone already, or not a process directory: nothing to report.
            Err(_) => continue,
        };
        let mut named = false;
        let mut note = |fd: u32, target: &[u8], found: &mut Found| {
            let Some(inode) = socket_inode(target).filter(|&inode| keep(inode)) else {
                return;
            };
            if !named {
                found.names.insert(pid, command_name(pid));
                named = true;
            }
            found.entries.push((inode, pid, fd));
        };
        // Since Linux 6.2 the fd directory's size is the number of open
        // descriptors. Descriptor tables are usually dense, so probing
        // 0, 1, 2 … until that many are found skips the readdir, whose
        // per-entry dentry setup costs as much as the reads themselves.
        let open = nix::sys::stat::fstat(dir.as_fd())
            .map_or(0, |st| usize::try_from(st.st_size).unwrap_or(0));
        let mut probed_to = 0u32;
        if open > 0 {
            let (mut seen, mut misses) = (0usize, 0usize);
            while seen < open && misses <= open + 64 {
                match read_link_at(dir.as_fd(), fd_name(probed_to, &mut digits), &mut link) {
                    Some(target) => {
                        seen += 1;
                        note(probed_to, target, &mut found);
                    }
                    None => misses += 1,
                }
                probed_to += 1;
            }
            if seen >= open {
                continue;
            }
        }
        // Sparse table, or an older kernel: list the directory.
        fds.clear();
        fds.extend(dir.iter().filter_map(|entry| {
            let entry = entry.ok()?;
            entry.file_name().to_str().ok()?.parse::<u32>().ok()
        }));
        for &fd in fds.iter().filter(|&&fd| fd >= probed_to) {
            if let Some(target) = read_link_at(dir.as_fd(), fd_name(fd, &mut digits), &mut link) {
                note(fd, target, &mut found);
            }
        }
    }
    found
}

/// Room for the longest link worth reading: `socket:[4294967295]`; longer
/// targets (paths) are cut short, which is fine — they are not sockets.
const LINK_BUFFER: usize = 32;

/// Writes `fd` in decimal, NUL-terminated, into `buf`.
fn fd_name(mut fd: u32, buf: &mut [u8; 11]) -> &CStr {
    let mut at = buf.len() - 1;
    buf[at] = 0;
    loop {
        at -= 1;
        buf[at] = b'0' + (fd % 10) as u8;
        fd /= 10;
        if fd == 0 {
            break;
        }
    }
    CStr::from_bytes_with_nul(&buf[at..]).unwrap_or(c"0")
}

/// `readlinkat()` into a stack buffer: this runs once per descriptor of
/// every process, and nix's wrapper allocates a page-sized buffer each time.
#[allow(unsafe_code)]
fn read_link_at<'b>(
    dir: BorrowedFd<'_>,
    name: &CStr,
    buf: &'b mut [u8; LINK_BUFFER],
) -> Option<&'b [u8]> {
    // SAFETY: `name` is NUL-terminated, `buf` is writable for its whole
    // length, and `dir` is an open descriptor borrowed for this call.
    let n = unsafe {
        libc::readlinkat(
            dir.as_raw_fd(),
            name.as_ptr(),
            buf.as_mut_ptr().cast(),
            buf.len(),
        )
    };
    usize::try_from(n).ok().map(|n| &buf[..n.min(buf.len())])
}

/// The inode in a `socket:[12345]` link target.
pub fn socket_inode(target: &[u8]) -> Option<u32> {
    let digits = target.strip_prefix(b"socket:[")?.strip_suffix(b"]")?;
    std::str::from_utf8(digits).ok()?.parse().ok()
}

/// `/proc/PID/comm` without its newline ("?" if the process is gone).
pub fn command_name(pid: u32) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .map(|comm| comm.trim_end_matches('\n').to_string())
        .unwrap_or_else(|_| "?".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn socket_links_yield_their_inode() {
        assert_eq!(socket_inode(b"socket:[12345]"), Some(12345));
        assert_eq!(socket_inode(b"pipe:[12345]"), None);
        assert_eq!(socket_inode(b"/dev/null"), None);
        assert_eq!(socket_inode(b"socket:[]"), None);
        assert_eq!(socket_inode(b"socket:[99999999999]"), None);
    }

    #[test]
    fn an_index_gives_each_inode_its_holders_by_pid_then_fd() {
        let index = OwnerIndex {
            entries: vec![(5, 10, 3), (7, 10, 4), (7, 11, 4), (7, 11, 9), (9, 12, 0)],
            names: PidMap::from_iter([(10, Arc::from("parent")), (11, Arc::from("child"))]),
            hidden: 0,
        };
        let holders = index.holders(7);
        let found: Vec<(u32, &str, u32)> =
            holders.iter().map(|h| (h.pid, &*h.name, h.fd)).collect();
        assert_eq!(
            found,
            [(10, "parent", 4), (11, "child", 4), (11, "child", 9)]
        );
        assert_eq!(holders.capacity(), 3);
        assert_eq!(
            &*index.holders(9)[0].name,
            "?",
            "a process gone before its name was read"
        );
        for absent in [0, 6, 8, 10] {
            assert!(index.holders(absent).is_empty());
        }
        let asked = [9, 7, 0, 5, 7, 10];
        let each = index.holders_of_each(&asked);
        for (inode, holders) in asked.iter().zip(&each) {
            assert_eq!(*holders, index.holders(*inode), "inode {inode}");
        }
        let mut sorted = asked;
        sorted.sort_unstable();
        let first = index.first_holders_sorted(&sorted);
        for (inode, holder) in sorted.iter().zip(&first) {
            let expected = index
                .holders(*inode)
                .first()
                .map(|h| (h.pid, h.name.clone()));
            assert_eq!(*holder, expected, "first holder of inode {inode}");
        }
    }

    #[test]
    fn entries_in_walk_order_sort_the_same_by_inode_alone() {
        // Three processes walked by pid, each with descriptors by number:
        // mostly rising inodes, a socket shared by two of them, one
        // inode out of line.
        let mut walked = Vec::new();
        let mut inode = 9_000u32;
        for pid in [10u32, 11, 300] {
            for fd in 0..500u32 {
                inode = inode.wrapping_add(if fd % 97 == 0 { 7_919 } else { 3 }) % 20_000;
                walked.push((inode, pid, fd));
            }
            walked.push((4_242, pid, 600));
        }
        let mut by_inode = walked.clone();
        sort_entries(&mut by_inode, true);
        let mut by_triple = walked.clone();
        sort_entries(&mut by_triple, false);
        walked.sort_unstable();
        assert_eq!(by_inode, walked);
        assert_eq!(by_triple, walked);
    }

    #[test]
    fn descriptor_numbers_format_in_decimal() {
        let mut buf = [0u8; 11];
        assert_eq!(fd_name(0, &mut buf), c"0");
        assert_eq!(fd_name(4_294_967_295, &mut buf), c"4294967295");
        assert_eq!(fd_name(17, &mut buf), c"17");
    }

    #[test]
    fn this_process_is_found_holding_its_own_socket() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        use std::os::fd::AsRawFd;
        let fd = listener.as_raw_fd() as u32;
        let link = std::fs::read_link(format!("/proc/self/fd/{fd}")).unwrap();
        let inode = socket_inode(link.as_os_str().as_encoded_bytes()).unwrap();
        let map = scan([inode]);
        let holders = &map.holders[&inode];
        assert!(
            holders
                .iter()
                .any(|h| h.pid == std::process::id() && h.fd == fd)
        );
    }
}
